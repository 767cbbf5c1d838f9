"""Compare embedding backends on this machine: passage throughput, single-query latency, agreement with fp32.

Run (about 2-3 minutes on 2 cores):

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m benchmarks.bench_encoders

Prints a markdown table (for BENCHMARKS.md), the CPU flags that decide the "auto" choice and the load
average: the machine is shared, so trust the figures only when the load is below the core count.
Options: --quick (a smoke test), --out FILE (also write the table there), --backends, --passages, --queries.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from indexer.embedding import (
    auto_backends,
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
    parser.add_argument("--quick", action="store_true", help="96 passages and 50 queries: a smoke test.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the markdown section to this file.")
    parser.add_argument("--passages", type=int, default=480)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--backends", nargs="*", default=[b for b in available_backends() if b != "auto"])
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.passages, args.queries = min(args.passages, 96), min(args.queries, 50)
    load_start = os.getloadavg()

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
        rows.append(f"| {name} | {rate:.1f} | {p50:.2f} | {p99:.2f} | {cosines.min():.5f} | {cosines.mean():.6f} |")
        print(f"done {name}", flush=True)

    passage_auto, query_auto = auto_backends()
    flags = sorted(cpu_flags() & {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"})
    load_end = os.getloadavg()
    lines = [
        f"CPU: {platform.processor() or platform.machine()}, {cpu_count()} cores usable, "
        f"flags: {' '.join(flags) or 'none'} (native bf16: {has_fast_bf16()}); load average (1 min) "
        f"{load_start[0]:.2f} at start, {load_end[0]:.2f} at end.",
        f"{len(passages)} Reuters passages of 120 words, batch {args.batch_size}; {len(queries)} single SciFact "
        "queries, encode only, in-process; cosine = passage vector vs torch-fp32.",
        "",
        "| backend | passages/s | query p50 ms | query p99 ms | lowest cosine | mean cosine |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f'backend="auto" here: passages -> {passage_auto}, queries -> {query_auto}.',
    ]
    text = "\n".join(lines) + "\n"
    print()
    print(text, end="")
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
