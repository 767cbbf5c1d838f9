"""Resident memory of `seedsearch build` and `seedsearch serve` on the seed documents, and query latency.

    python -m benchmarks.bench_memory [--queries 1000] [--first-build] [--baseline PATH] [--out memory.md]

1. `seedsearch build --source seeds` into a fresh index; its peak resident memory is sampled every 10 ms
   (psutil, the process and its children each on their own: the export of the model graph, which runs once per
   model in children, is reported apart). With `--first-build` the build (and the server after it) gets an
   empty cache directory, so the export runs as on a fresh machine; without, an export cached earlier is used.
2. `seedsearch serve` (one process, the defaults) on that index; `--queries` GET /search requests (the seed
   question set, cycled) one after another; the server's resident memory (RSS) after them, its peak (VmHWM),
   and the query latency p50 and p95 on the client.

With `--baseline PATH` (a checkout of another commit, e.g. `git worktree add /tmp/base HEAD~1`) the same is run
with that code, in the same invocation, for comparison. Targets: serve RSS <= 400 MB after the queries, with p50
no worse than the baseline's; build peak <= 700 MB, the export's children included. Exit status 1 when one is
missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO.parent / "shared" / "eval" / "seed_questions.jsonl"
MB = 1024 * 1024


@dataclass(frozen=True)
class MemoryReport:
    """Figures of one code checkout."""

    label: str
    build_peak_mb: float
    build_child_peak_mb: float  # largest child of the build (the one-off graph export), 0 when none ran
    serve_rss_mb: float
    serve_peak_mb: float
    p50_ms: float
    p95_ms: float
    torch_in_server: bool


def _env(code: Path, cache_dir: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(code), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if cache_dir is not None:
        env["SEEDSEARCH_CACHE_DIR"] = str(cache_dir)
    return env


def _cli() -> list[str]:
    return [sys.executable, "-c", "from seedsearch.cli import app; app()"]  # the code is chosen by PYTHONPATH


class PeakSampler:
    """Samples the resident memory of a process and, apart, of each of its children, until stopped."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.child_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
                for child in self.process.children(recursive=True):
                    self.child_peak = max(self.child_peak, child.memory_info().rss)
            except psutil.Error:
                pass
            self._stop.wait(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def measure_build(code: Path, index: Path, cache_dir: Path | None) -> tuple[float, float]:
    """(peak RSS of the build process, peak RSS of its largest child) in MB."""
    process = subprocess.Popen(
        [*_cli(), "build", "--source", str(REPO / "seeds"), "--index", str(index), "-q"],
        cwd=code, env=_env(code, cache_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    sampler = PeakSampler(process.pid)
    _, err = process.communicate(timeout=1800)
    sampler.stop()
    if process.returncode != 0:
        raise RuntimeError(f"build with {code} failed: {err}")
    return sampler.peak / MB, sampler.child_peak / MB


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_health(port: int, process: subprocess.Popen[str], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited: {process.communicate()[1]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("serve did not answer /health in time")


def _query_latencies(port: int, questions: list[str], count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies = []
    for i in range(count):
        query = urllib.parse.urlencode({"q": questions[i % len(questions)], "k": 5})
        started = time.perf_counter()
        connection.request("GET", f"/search?{query}")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"query {i} answered {response.status}")
        latencies.append((time.perf_counter() - started) * 1000)
    connection.close()
    return latencies


def _has_torch(pid: int) -> bool:
    maps = Path(f"/proc/{pid}/maps")
    return maps.exists() and "libtorch" in maps.read_text()


def measure_serve(
    code: Path, index: Path, cache_dir: Path | None, questions: list[str], count: int
) -> tuple[float, float, list[float], bool]:
    """(RSS after the queries, peak RSS, latencies in ms, whether torch is loaded) of one `seedsearch serve`."""
    port = _free_port()
    process = subprocess.Popen(
        [*_cli(), "serve", "--index", str(index), "--port", str(port)],
        cwd=code, env=_env(code, cache_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_for_health(port, process)
        latencies = _query_latencies(port, questions, count)
        info = psutil.Process(process.pid)
        rss = info.memory_info().rss / MB
        status = Path(f"/proc/{process.pid}/status").read_text()
        peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")) / 1024
        torch_loaded = _has_torch(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)
    return rss, peak, latencies, torch_loaded


def measure(code: Path, label: str, questions: list[str], count: int, first_build: bool) -> MemoryReport:
    with tempfile.TemporaryDirectory() as work:
        index, cache_dir = Path(work) / "index", Path(work) / "cache" if first_build else None
        build_peak, child_peak = measure_build(code, index, cache_dir)
        rss, peak, latencies, torch_loaded = measure_serve(code, index, cache_dir, questions, count)
    cut = sorted(latencies)
    return MemoryReport(
        label, build_peak, child_peak, rss, peak, statistics.median(cut), cut[int(0.95 * (len(cut) - 1))],
        torch_loaded,
    )


def render(reports: list[MemoryReport], count: int) -> str:
    lines = [
        f"| code | build peak MB (export child) | serve RSS MB after {count} queries | serve peak MB | "
        "p50 ms | p95 ms | torch in server |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in reports:
        child = f" ({r.build_child_peak_mb:.0f})" if r.build_child_peak_mb else ""
        lines.append(
            f"| {r.label} | {r.build_peak_mb:.0f}{child} | {r.serve_rss_mb:.0f} | {r.serve_peak_mb:.0f} | "
            f"{r.p50_ms:.1f} | {r.p95_ms:.1f} | {'yes' if r.torch_in_server else 'no'} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--first-build", action="store_true", help="build with an empty cache: export the model too")
    parser.add_argument("--baseline", type=Path, help="a checkout of another commit to compare with")
    parser.add_argument("--out", type=Path, help="also write the table here")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="JSONL with a 'question' field")
    args = parser.parse_args()
    lines = args.questions.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line]
    runs = [(REPO, "this checkout")]
    if args.baseline:
        runs.append((args.baseline.resolve(), f"baseline {args.baseline}"))
    reports = [measure(code, label, questions, args.queries, args.first_build) for code, label in runs]
    table = render(reports, args.queries)
    print(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")
    ours = reports[0]
    ok = ours.serve_rss_mb <= 400 and max(ours.build_peak_mb, ours.build_child_peak_mb) <= 700
    if len(reports) > 1:
        ok = ok and ours.p50_ms <= reports[1].p50_ms * 1.05  # 5 % for noise on a shared machine
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
