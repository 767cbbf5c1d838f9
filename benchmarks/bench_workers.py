"""Serving replicas on one machine: `seedsearch serve --workers N` against one worker, same clients, same index.

    python -m benchmarks.bench_workers [--index /work/main-reuters-index] [--workers 1 2] [--clients 8]
        [--duration 30] [--warmup 5] [--out workers.md]

For each N in `--workers`, `seedsearch serve --workers N` starts on a free loopback port over the published
build of `--index` (read through a private folder whose `current` link points at that build, so the index
directory itself is never written, not even a serving mark). `--clients` asyncio clients (one keep-alive
connection each) search `GET /search?k=5` as fast as they can with Reuters story titles as questions: `--warmup`
seconds not counted, then `--duration` seconds counted. Every non-200 answer and connection error is an error.
Afterwards each worker process's RSS and PSS come from /proc/<pid>/smaps_rollup (PSS splits shared pages, such
as the memory-mapped index and the page cache of its files, between the processes mapping them).

Targets (issue 15): N=2 gives >= 1.2x the requests/s of N=1 with 0 errors and a p50 no worse. Exit status 1
when one is missed. Clients, workers and everything else on the machine share its cores: say the load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.bench_query import Server

REUTERS = Path("/work/shared/datasets/reuters21578/reuters.jsonl")


@dataclass
class Outcome:
    workers: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    memory: list[tuple[int, int, int]] = field(default_factory=list)  # (pid, rss, pss) per worker

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def read_only_view(index_dir: Path, work: Path) -> Path:
    """A folder whose `current` link points at `index_dir`'s published build: servers write their marks here."""
    view = work / "index"
    view.mkdir()
    (view / "current").symlink_to((index_dir / "current").resolve())
    return view


def questions(limit: int = 400) -> list[str]:
    titles: list[str] = []
    with REUTERS.open(encoding="utf-8") as source:
        for line in source:
            title = json.loads(line).get("title", "").strip()
            if title:
                titles.append(title)
            if len(titles) >= limit:
                break
    return titles or ["cocoa prices", "oil output", "interest rates"]


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in bytes, from /proc/<pid>/smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            values[name] = int(rest.split()[0]) * 1024
    return values["Rss"], values["Pss"]


def worker_pids(server: subprocess.Popen[bytes], workers: int) -> list[int]:
    if workers == 1:
        return [server.pid]
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(c) for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]


async def client(url: str, asked: list[str], start: int, until: float, count_from: float, out: Outcome) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        i = start
        while (now := time.monotonic()) < until:
            i += 1
            try:
                answer = await http.get("/search", params={"q": asked[i % len(asked)], "k": 5})
                ok = answer.status_code == 200
            except httpx.HTTPError:
                ok = False
            if now >= count_from:
                if ok:
                    out.latencies.append(time.monotonic() - now)
                else:
                    out.errors += 1


async def load(url: str, clients: int, warmup: float, duration: float, out: Outcome) -> None:
    asked = questions()
    count_from = time.monotonic() + warmup
    until = count_from + duration
    await asyncio.gather(*(client(url, asked, 37 * c, until, count_from, out) for c in range(clients)))
    out.seconds = duration


def measure(view: Path, workers: int, clients: int, warmup: float, duration: float) -> Outcome:
    out = Outcome(workers)
    with tempfile.TemporaryDirectory(prefix="bench-workers-log-") as logs, Server(
        view, Path(logs) / "serve.log", start_timeout_s=600, extra_args=("--workers", str(workers))
    ) as server:
        time.sleep(2 * workers)  # every worker has loaded, not only the first to answer
        asyncio.run(load(server.url, clients, warmup, duration, out))
        out.memory = [(pid, *memory(pid)) for pid in worker_pids(server.proc, workers)]
    return out


def report(outcomes: Sequence[Outcome], clients: int) -> tuple[str, bool]:
    base = outcomes[0]
    load = os.getloadavg()[0]
    lines = [f"{clients} clients, 1-minute load average at the end: {load:.2f}, {os.cpu_count()} CPUs", "",
             "| workers | requests/s | vs 1 | p50 ms | p95 ms | errors | RSS per worker MiB | PSS per worker MiB |",
             "|---|---|---|---|---|---|---|---|"]
    passed = True
    for out in outcomes:
        ratio = out.throughput / base.throughput if base.throughput else 0.0
        rss = ", ".join(f"{r / 2**20:.0f}" for _, r, _ in out.memory)
        pss = ", ".join(f"{p / 2**20:.0f}" for _, _, p in out.memory)
        lines.append(f"| {out.workers} | {out.throughput:.1f} | {ratio:.2f}x | {out.percentile(0.5):.1f} | "
                     f"{out.percentile(0.95):.1f} | {out.errors} | {rss} | {pss} |")
        if out.workers == 2 and out is not base:
            passed &= ratio >= 1.2 and out.errors == 0 and out.percentile(0.5) <= base.percentile(0.5)
    return "\n".join(lines), passed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=Path("/work/main-reuters-index"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as work:
        view = read_only_view(args.index, Path(work))
        outcomes = []
        for workers in args.workers:
            outcomes.append(measure(view, workers, args.clients, args.warmup, args.duration))
            print(f"workers={workers}: {outcomes[-1].throughput:.1f} requests/s", flush=True)
    text, passed = report(outcomes, args.clients)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
