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
    parser.add_argument("--quick", action="store_true", help="96 passages, 60 queries, batch 32: a smoke test.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the markdown section to this file.")
    parser.add_argument("--passages", type=int, default=480)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5, help="Interleaved rounds over the backends.")
    parser.add_argument("--backends", nargs="*", default=[b for b in available_backends() if b != "auto"])
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.passages, args.queries, args.rounds = min(args.passages, 96), min(args.queries, 60), 3
        args.batch_size = min(args.batch_size, 32)
    load_start = os.getloadavg()

    passages = reuters_passages(args.passages)
    queries = short_queries(args.queries)
    backends = ["torch-fp32"] + [b for b in args.backends if b != "torch-fp32"]
    embedders = {name: load_embedder(backend=name, cache_dir=args.cache_dir) for name in backends}
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in backends}
    seconds: dict[str, list[float]] = {name: [] for name in backends}
    latencies: dict[str, list[float]] = {name: [] for name in backends}
    for embedder in embedders.values():  # warm-up: allocators, graph compilation, first-call paths
        embedder.encode_passages(passages[:8])
        for q in queries[:5]:
            embedder.encode_queries([q])
    # Interleave the backends in rounds, so that load from other work on a shared machine falls on all of
    # them alike; a backend's throughput is its best round (the least disturbed one).
    rounds = max(1, min(args.rounds, len(passages) // args.batch_size))
    for chunk, questions in zip(
        np.array_split(np.arange(len(passages)), rounds), np.array_split(np.arange(len(queries)), rounds), strict=True
    ):
        for name, embedder in embedders.items():
            start = time.perf_counter()
            vectors[name].append(embedder.encode_passages([passages[i] for i in chunk], batch_size=args.batch_size))
            seconds[name].append(time.perf_counter() - start)
            for i in questions:
                t0 = time.perf_counter()
                embedder.encode_queries([queries[i]])
                latencies[name].append((time.perf_counter() - t0) * 1000)
        print(f"round {len(seconds[backends[0]])}/{rounds} done", flush=True)

    sizes = [len(c) for c in np.array_split(np.arange(len(passages)), rounds)]
    reference = np.vstack(vectors["torch-fp32"])
    rows: list[str] = []
    for name in backends:
        rate = max(n / t for n, t in zip(sizes, seconds[name], strict=True))
        cosines = np.sum(np.vstack(vectors[name]) * reference, axis=1)
        p50 = statistics.median(latencies[name])
        p99 = float(np.percentile(latencies[name], 99))
        rows.append(f"| {name} | {rate:.1f} | {p50:.2f} | {p99:.2f} | {cosines.min():.5f} | {cosines.mean():.6f} |")

    passage_auto, query_auto = auto_backends()
    flags = sorted(cpu_flags() & {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"})
    load_end = os.getloadavg()
    lines = [
        f"CPU: {platform.processor() or platform.machine()}, {cpu_count()} cores usable, "
        f"flags: {' '.join(flags) or 'none'} (native bf16: {has_fast_bf16()}); load average (1 min) "
        f"{load_start[0]:.2f} at start, {load_end[0]:.2f} at end.",
        f"{len(passages)} Reuters passages of 120 words, batch {args.batch_size}, backends interleaved in "
        f"{rounds} rounds, passages/s = best round; {len(queries)} single SciFact queries (encode only, "
        "in-process), p50/p99 over all; cosine = passage vector vs torch-fp32.",
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
