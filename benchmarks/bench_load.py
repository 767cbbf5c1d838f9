"""Load with a rebuild in the middle: concurrent clients on a real `seedsearch serve` over a Reuters index while
one story changes and `seedsearch build` republishes the same index directory.

    python -m benchmarks.bench_load [--stories 3000] [--clients 16] [--duration 60] [--rounds 1] [--out load.md]
        [--quick]

1. The first `--stories` Reuters stories (`/work/shared/datasets/reuters21578/reuters.jsonl`; 0 = all 19,043)
   are written to `<work>/stories.jsonl` and indexed with `seedsearch build` (the bundled model). The index in
   `<work>/index-<N>` is kept between runs: the next run only undoes the last run's change (one story
   re-embedded), so only the first run pays for the full build.
2. `seedsearch serve` starts on a free loopback port with default settings (new builds are looked for every
   `reload_interval_s`, 1 s).
3. `--clients` asyncio clients (one httpx connection each) search as fast as they can, for a few seconds of
   warm-up (not counted), then for `--duration` seconds: GET and POST `/search`, k=5, the stories' titles as
   questions. Every non-200 answer and every connection error is an error.
4. A third of the way through, one story gets a new sentence and `seedsearch build` runs on the same index
   directory (a separate process, model load included). After it exits, a probe searches for the new sentence
   until the changed story comes back: the time from build exit to that answer is how long the server took to
   switch (it may be ~0: the server can switch while the build process is still exiting).
5. The server's resident memory (VmRSS from /proc) is sampled after warm-up ("before") and after the last
   request ("after"); the target is less than 10 % growth over the run.
6. With `--rounds N` (N >= 2) the same load runs N times on the same server (only the first with the rebuild),
   RSS sampled at the end of each round; the memory target is then less than 5 % growth from the end of the
   first round to the end of the last (the soak: `--stories 1800 --rounds 2`, about 10,000 passages).

Latencies are client-side round trips on 127.0.0.1; clients, server and the rebuild share the machine's cores.
Exit status 1 when a target is missed (any error, switch over 5 s, memory growth of 10 % or more).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
REUTERS = Path("/work/shared/datasets/reuters21578/reuters.jsonl")
MARKER = "Quillwort"
MARKER_SENTENCE = f" {MARKER} growers in the region reported a record quillwort crop, traders said."
SWITCH_TARGET_S = 5.0
GROWTH_TARGET = 0.10
ROUND_GROWTH_TARGET = 0.05  # with --rounds > 1: from the end of the first round to the end of the last
Log = Callable[[str], None]


def offline_env(**extra: str) -> dict[str, str]:
    """This environment, offline, without an API key (the benchmark calls the API without one)."""
    env = {k: v for k, v in os.environ.items() if k != "SEEDSEARCH_API_KEY"}
    return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **extra}


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0..100), linear interpolation between the closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- the corpus and its index ------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    path: Path
    stories: list[dict[str, object]]
    changed_id: str

    @property
    def titles(self) -> list[str]:
        return [str(s["title"]) for s in self.stories if str(s.get("title", "")).strip()]


def write_corpus(work: Path, count: int, *, changed: bool) -> Corpus:
    """The first `count` stories (all for 0) in `<work>/stories.jsonl`; `changed` appends the marker sentence
    to the middle story."""
    stories: list[dict[str, object]] = []
    with REUTERS.open(encoding="utf-8") as source:
        for line in source:
            stories.append(json.loads(line))
            if count and len(stories) >= count:
                break
    middle = len(stories) // 2
    changed_id = str(stories[middle]["_id"])
    if changed:
        stories[middle] = {**stories[middle], "text": str(stories[middle]["text"]) + MARKER_SENTENCE}
    path = work / "stories.jsonl"
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for story in stories:
            out.write(json.dumps(story, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return Corpus(path, stories, changed_id)


def seedsearch(*args: str, log_path: Path | None = None, timeout_s: float = 3600) -> float:
    """Run `seedsearch ARGS` to completion; returns its wall-clock seconds (model load included)."""
    started = time.perf_counter()
    with open(log_path or os.devnull, "a", encoding="utf-8") as log_file:
        done = subprocess.run(
            [sys.executable, "-m", "seedsearch.cli", *args], cwd=REPO, env=offline_env(), stdout=log_file,
            stderr=log_file, timeout=timeout_s, check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"`seedsearch {' '.join(args)}` exited with {done.returncode}; see {log_path}")
    return time.perf_counter() - started


def index_info(index_dir: Path) -> dict[str, object]:
    manifest = json.loads((index_dir / "current" / "manifest.json").read_text(encoding="utf-8"))
    return {"documents": manifest["documents"], "passages": manifest["passages"],
            "kind": manifest["vector_index"]["kind"], "backend": manifest.get("backend", "")}


# --- the server ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc/<pid>/status (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class Server:
    """`seedsearch serve` on a free loopback port, stopped (SIGTERM) on exit."""

    def __init__(self, index_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "seedsearch.cli", "serve", "--index", str(index_dir), "--host", "127.0.0.1",
             "--port", str(self.port)],
            cwd=REPO, env=offline_env(), stdout=self.log, stderr=self.log,
        )

    def wait_ready(self, timeout_s: float = 300) -> float:
        started = time.perf_counter()
        while time.perf_counter() - started < timeout_s:
            if self.process.poll() is not None:
                raise RuntimeError(f"`seedsearch serve` exited with {self.process.returncode}; see {self.log.name}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"`seedsearch serve` did not answer /health in {timeout_s:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --- the load --------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Every request of the timed run: latency (s) and when it ended, errors with their first messages."""

    latencies: list[float] = field(default_factory=list)
    ended_at: list[float] = field(default_factory=list)
    errors: int = 0
    messages: list[str] = field(default_factory=list)
    counting: bool = False

    def record(self, latency: float, error: str | None) -> None:
        if not self.counting:
            return
        if error is not None:
            self.errors += 1
            if len(self.messages) < 5:
                self.messages.append(error)
            return
        self.latencies.append(latency)
        self.ended_at.append(time.perf_counter())


async def client_loop(number: int, url: str, questions: Sequence[str], tally: Tally, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=1)) as client:
        turn = number * 7
        while not stop.is_set():
            turn += 1
            question = questions[turn % len(questions)]
            started = time.perf_counter()
            error = None
            try:
                if turn % 2:
                    response = await client.get("/search", params={"q": question, "k": 5})
                else:
                    response = await client.post("/search", json={"query": question, "k": 5})
                if response.status_code != 200:
                    error = f"{response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as err:
                error = f"{type(err).__name__}: {err}"
            tally.record(time.perf_counter() - started, error)


async def probe_switch(url: str, corpus: Corpus, since: float, timeout_s: float = 60) -> float | None:
    """Seconds from `since` (the build's exit) until a search finds the changed story by its new sentence."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.perf_counter() - since < timeout_s:
            response = await client.get("/search", params={"q": f"{MARKER} growers record crop", "k": 3})
            if response.status_code == 200 and any(
                hit["doc_id"] == corpus.changed_id and MARKER in hit["text"] for hit in response.json()["results"]
            ):
                return time.perf_counter() - since
            await asyncio.sleep(0.05)
    return None


@dataclass(frozen=True)
class Result:
    stories: int
    index: dict[str, object]
    clients: int
    duration_s: float
    requests: int
    errors: int
    error_messages: list[str]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    rebuild_p50_ms: float
    rebuild_p99_ms: float
    rebuild_requests: int
    build_s: float
    switch_s: float | None
    rss_before: int
    rss_after: int
    rss_peak: int
    start_s: float
    round_rss: list[int] = field(default_factory=list)  # server RSS at the end of each round

    @property
    def growth_after_first_round(self) -> float | None:
        if len(self.round_rss) < 2:
            return None
        return self.round_rss[-1] / self.round_rss[0] - 1

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s

    @property
    def growth(self) -> float:
        return self.rss_after / self.rss_before - 1

    @property
    def met(self) -> bool:
        later = self.growth_after_first_round
        growth_ok = self.growth < GROWTH_TARGET if later is None else later < ROUND_GROWTH_TARGET
        return self.errors == 0 and self.switch_s is not None and self.switch_s <= SWITCH_TARGET_S and growth_ok


@dataclass
class Run:
    """What one timed run saw."""

    tally: Tally
    elapsed_s: float = 0.0
    build_s: float = float("nan")
    switch_s: float | None = None
    window: tuple[float, float] = (0.0, 0.0)  # from the build's launch to the probe's answer
    rss_before: int = 0
    rss_after: int = 0
    rss_peak: int = 0


async def load_run(
    server: Server, corpus: Corpus, work: Path, clients: int, duration_s: float, warmup_s: float, log: Log,
    *, rebuild_midway: bool = True,
) -> Run:
    questions = corpus.titles[:400] or ["cocoa exports"]
    run = Run(Tally())
    stop = asyncio.Event()
    tasks = [asyncio.create_task(client_loop(n, server.url, questions, run.tally, stop)) for n in range(clients)]
    await asyncio.sleep(warmup_s)
    run.rss_before = run.rss_peak = rss_bytes(server.process.pid)
    run.tally.counting = True
    started = time.perf_counter()
    log(f"load: {clients} clients for {duration_s:.0f} s (RSS {run.rss_before / 2**20:.0f} MiB after warm-up)")
    build: asyncio.Task[tuple[float, float]] | None = None
    launched = 0.0

    def rebuild() -> tuple[float, float]:
        seconds = seedsearch("build", "--source", str(corpus.path), "--index", str(work / "index"), "--quiet",
                             log_path=work / "rebuild.log")
        return seconds, time.perf_counter()

    async def finish_rebuild() -> None:
        assert build is not None
        run.build_s, exited = await build
        run.switch_s = await probe_switch(server.url, corpus, exited)
        run.window = (launched, time.perf_counter())
        served = f"{run.switch_s:.2f} s" if run.switch_s is not None else "never"
        log(f"load: the build took {run.build_s:.1f} s; the server answered from it {served} after it exited")

    while time.perf_counter() - started < duration_s:
        await asyncio.sleep(0.5)
        run.rss_peak = max(run.rss_peak, rss_bytes(server.process.pid))
        if rebuild_midway and build is None and time.perf_counter() - started >= duration_s / 3:
            log(f"load: story {corpus.changed_id} changed; `seedsearch build` on the served index directory")
            write_corpus(work, len(corpus.stories), changed=True)
            launched = time.perf_counter()
            build = asyncio.create_task(asyncio.to_thread(rebuild))
        elif build is not None and build.done() and run.window == (0.0, 0.0):
            await finish_rebuild()
    run.elapsed_s = time.perf_counter() - started
    run.tally.counting = False
    stop.set()
    await asyncio.gather(*tasks)
    if build is not None and run.window == (0.0, 0.0):
        log("load: the rebuild outlasted the timed run; waiting for it")
        await finish_rebuild()
    run.rss_after = rss_bytes(server.process.pid)
    run.rss_peak = max(run.rss_peak, run.rss_after)
    return run


def measure(
    stories: int, clients: int, duration_s: float, warmup_s: float, work: Path, log: Log, rounds: int = 1
) -> Result:
    work.mkdir(parents=True, exist_ok=True)
    index_dir = work / "index"
    corpus = write_corpus(work, stories, changed=False)
    log(f"index: {len(corpus.stories)} stories -> {index_dir} (kept between runs; first build takes minutes)")
    seedsearch("build", "--source", str(corpus.path), "--index", str(index_dir), "--quiet",
               log_path=work / "build.log")
    info = index_info(index_dir)
    server = Server(index_dir, work / "serve.log")
    try:
        start_s = server.wait_ready()
        log(f"serve: ready in {start_s:.1f} s on {server.url}")
        run = asyncio.run(load_run(server, corpus, work, clients, duration_s, warmup_s, log))
        round_rss = [run.rss_after]
        for number in range(2, rounds + 1):  # the same load again, without a rebuild: does memory keep growing?
            again = asyncio.run(load_run(server, corpus, work, clients, duration_s, 0.0, log, rebuild_midway=False))
            round_rss.append(again.rss_after)
            run.tally.errors += again.tally.errors
            run.tally.messages += again.tally.messages[: 5 - len(run.tally.messages)]
            run.rss_peak = max(run.rss_peak, again.rss_peak)
            log(f"round {number}: {len(again.tally.latencies)} requests, {again.tally.errors} errors, "
                f"RSS {again.rss_after / 2**20:.0f} MiB")
    finally:
        server.stop()
    tally = run.tally
    low, high = run.window
    in_window = [lat * 1000 for lat, end in zip(tally.latencies, tally.ended_at, strict=True) if low <= end <= high]
    ms = [lat * 1000 for lat in tally.latencies]
    return Result(
        stories=len(corpus.stories), index=info, clients=clients, duration_s=run.elapsed_s,
        requests=len(tally.latencies) + tally.errors, errors=tally.errors, error_messages=tally.messages,
        p50_ms=percentile(ms, 50), p90_ms=percentile(ms, 90), p99_ms=percentile(ms, 99),
        max_ms=max(ms, default=float("nan")), rebuild_p50_ms=percentile(in_window, 50),
        rebuild_p99_ms=percentile(in_window, 99), rebuild_requests=len(in_window), build_s=run.build_s,
        switch_s=run.switch_s, rss_before=run.rss_before, rss_after=run.rss_after, rss_peak=run.rss_peak,
        start_s=start_s, round_rss=round_rss,
    )


# --- the report ------------------------------------------------------------------------------------------


def to_markdown(result: Result, command: str) -> str:
    mib = 2**20
    verdict = "**yes**" if result.met else "**no**"
    switch = f"{result.switch_s:.2f} s" if result.switch_s is not None else "never (60 s)"
    rows = [
        ("clients x duration", f"{result.clients} x {result.duration_s:.0f} s"),
        ("requests (GET and POST /search, k=5)", f"{result.requests}"),
        ("errors (non-200 or connection)", f"{result.errors}"),
        ("requests/s", f"{result.requests_per_s:.1f}"),
        ("latency p50 / p90 / p99 / max", f"{result.p50_ms:.1f} / {result.p90_ms:.1f} / {result.p99_ms:.1f} / "
                                          f"{result.max_ms:.1f} ms"),
        ("latency p50 / p99 while rebuilding", f"{result.rebuild_p50_ms:.1f} / {result.rebuild_p99_ms:.1f} ms "
                                               f"({result.rebuild_requests} requests)"),
        ("rebuild: `seedsearch build`, 1 story changed", f"{result.build_s:.1f} s (process, model load included)"),
        ("new build served after the build exited", switch),
        ("server RSS after warm-up -> after the run (peak)",
         f"{result.rss_before / mib:.0f} -> {result.rss_after / mib:.0f} MiB ({result.rss_peak / mib:.0f})"),
        ("RSS growth", f"{result.growth * 100:+.1f} %"),
    ]
    later = result.growth_after_first_round
    if later is not None:
        ends = " -> ".join(f"{rss / mib:.0f}" for rss in result.round_rss)
        rows.append((f"RSS at the end of each of {len(result.round_rss)} rounds; growth after the first",
                     f"{ends} MiB; {later * 100:+.1f} %"))
    growth_target = "growth < 10 %" if later is None else "growth after the first round < 5 %"
    rows.append((f"targets met (0 errors, switch <= 5 s, {growth_target})", verdict))
    index = result.index
    lines = [
        "## Load with a rebuild (`benchmarks/bench_load.py`)",
        "",
        f"`{command}` — first {result.stories} Reuters stories: {index['documents']} documents, "
        f"{index['passages']} passages, {index['kind']} index, built with backend {index['backend']}; "
        f"server ready {result.start_s:.1f} s after launch.",
        "",
        "| figure | value |",
        "|---|---:|",
        *[f"| {name} | {value} |" for name, value in rows],
    ]
    if result.error_messages:
        lines += ["", "First errors:", *[f"- `{message}`" for message in result.error_messages]]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stories", type=int, default=3000, help="first N Reuters stories (0 = all 19,043)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0, help="timed seconds (after warm-up)")
    parser.add_argument("--warmup", type=float, default=5.0, help="untimed seconds of load first")
    parser.add_argument("--work", type=Path, default=None, help="folder for the stories and the index "
                        "(default /tmp/seedsearch-bench-load/<stories>; kept between runs)")
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown table here")
    parser.add_argument("--quick", action="store_true", help="300 stories, 8 clients, 15 s")
    parser.add_argument("--rounds", type=int, default=1, help="timed rounds on one server (the first with the "
                        "rebuild); with 2 or more, RSS growth is measured from the end of the first round")
    args = parser.parse_args(argv)
    if args.quick:
        args.stories, args.clients, args.duration = 300, 8, 15.0
    work = args.work or Path("/tmp/seedsearch-bench-load") / str(args.stories or "all")
    command = "python -m benchmarks.bench_load " + " ".join(argv if argv is not None else sys.argv[1:])
    result = measure(args.stories, args.clients, args.duration, args.warmup, work,
                     lambda message: print(message, file=sys.stderr, flush=True), rounds=args.rounds)
    report = to_markdown(result, command.strip())
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    return 0 if result.met else 1


if __name__ == "__main__":
    raise SystemExit(main())
