"""Compare embedding backends on this machine: passage throughput, single-query latency, agreement with fp32.

Run (about 2-3 minutes on 2 cores):

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m benchmarks.bench_encoders

Prints a markdown table (for BENCHMARKS.md) and the CPU flags that decide the "auto" choice.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from indexer.embedding import (
    available_backends,
    cpu_count,
    cpu_flags,
    has_fast_bf16,
    load_embedder,
)

REUTERS = Path("/work/shared/datasets/reuters21578/reuters.jsonl")
SCIFACT_QUERIES = Path("/work/shared/datasets/scifact/queries.jsonl")


def reuters_passages(n: int, words: int = 120) -> list[str]:
    """The first `n` Reuters stories with at least `words` words, cut to `words` words."""
    out: list[str] = []
    with REUTERS.open(encoding="utf-8") as fh:
        for line in fh:
            tokens = json.loads(line)["text"].split()
            if len(tokens) >= words:
                out.append(" ".join(tokens[:words]))
                if len(out) == n:
                    break
    return out


def short_queries(n: int) -> list[str]:
    """Real short questions/claims (SciFact queries)."""
    with SCIFACT_QUERIES.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for _, line in zip(range(n), fh, strict=False)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=480)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--backends", nargs="*", default=[b for b in available_backends() if b != "auto"])
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()

    passages = reuters_passages(args.passages)
    queries = short_queries(args.queries)
    reference: np.ndarray | None = None
    rows: list[str] = []
    backends = ["torch-fp32"] + [b for b in args.backends if b != "torch-fp32"]
    for name in backends:
        embedder = load_embedder(backend=name, cache_dir=args.cache_dir)
        embedder.encode_passages(passages[:8])  # warm-up: allocators, graph compilation
        start = time.perf_counter()
        vectors = embedder.encode_passages(passages, batch_size=args.batch_size)
        rate = len(passages) / (time.perf_counter() - start)
        for q in queries[:10]:
            embedder.encode_queries([q])
        latencies = []
        for q in queries:
            t0 = time.perf_counter()
            embedder.encode_queries([q])
            latencies.append((time.perf_counter() - t0) * 1000)
        if reference is None:
            reference = vectors
        cosines = np.sum(vectors * reference, axis=1)
        p50 = statistics.median(latencies)
        p99 = float(np.percentile(latencies, 99))
        rows.append(f"| {name} | {rate:.1f} | {p50:.2f} | {p99:.2f} | {cosines.min():.4f} | {cosines.mean():.5f} |")
        print(f"done {name}", flush=True)

    auto = load_embedder(cache_dir=args.cache_dir)
    flags = sorted(cpu_flags() & {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"})
    print()
    print(
        f"CPU: {platform.processor() or platform.machine()}, {cpu_count()} cores usable, "
        f"flags: {' '.join(flags) or 'none'} (fast bf16: {has_fast_bf16()})"
    )
    print(
        f"{len(passages)} Reuters passages of 120 words, batch {args.batch_size}; {len(queries)} single "
        "SciFact queries (encode only, in-process); cosine = passage vector vs torch-fp32."
    )
    print()
    print("| backend | passages/s | query p50 ms | query p99 ms | lowest cosine | mean cosine |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(row)
    print()
    print(f"auto on this machine: passages -> {auto.backend}, queries -> {getattr(auto, 'query_backend', '?')}")


if __name__ == "__main__":
    main()
