"""Query latency on the seed index: naive in-process search, the product in-process, and over HTTP.

- naive: `SentenceTransformer.encode([query])` (fp32 defaults) + `IndexFlatIP.search` over blank-line
  chunks of the seed documents, one query at a time, in this process;
- product in-process: `SearchEngine.search(q, k=5)` (hybrid, the default) on an index built by
  `seedsearch build`;
- HTTP: `GET /search?q=...&k=5` against a real `seedsearch serve` process on a free loopback port, first one
  client, then 8 concurrent clients (threads, one httpx.Client each), counting every non-200 as an error.

Every path is warmed up first, then timed over the same fixed list of questions, repeated in order.

    python -m benchmarks.bench_query [--quick] [--out query.md]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import Section, Table, Target, offline_env, percentile, report

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
CLIENTS = 8
#: Naive in-process p50 (encode one query + IndexFlatIP) measured on a quiet machine of this kind, ms.
ANCHOR_NAIVE_P50_MS = (7.0, 12.0)
Log = Callable[[str], None]

#: News-style questions of several kinds (who said what, facts, places, paraphrases, keywords, off-topic),
#: written for this benchmark; the answers do not matter here, only that the work per query varies.
QUESTIONS: tuple[str, ...] = (
    "What security guarantees did the allies promise Ukraine?",
    "Did the United States back the coalition of the willing?",
    "What did Steve Witkoff say after the Paris summit?",
    "Who is the US special envoy?",
    "What did Keir Starmer say about British forces in Ukraine?",
    "How did Donald Tusk react to the guarantees?",
    "Is Poland sceptical about Russia's intentions?",
    "What did Zelenskyy ask Trump for?",
    "How many years of guarantees were agreed?",
    "What does Russia demand in the Donbas?",
    "What is Zelenskyy's counter-proposal?",
    "Which Lithuanian leader spoke about European security?",
    "What did Ursula von der Leyen write on X?",
    "What did Macron's adviser say about operational modalities?",
    "What kind of peace does Macron want?",
    "Who is NATO's senior commander in Europe?",
    "Which French general met Ukrainian military leaders?",
    "What did Mandon's office say?",
    "Why does Kyiv want guarantees like NATO's mutual defence?",
    "What does Moscow want from a peace deal?",
    "Why are Europeans worried about Greenland?",
    "Which countries signed the statement on Greenland?",
    "Greenland belongs to its people",
    "Arctic security and the UN Charter",
    "ceasefire monitoring and verification",
    "multinational force for deterrence",
    "When did Russia first invade Ukraine?",
    "Where was the summit held?",
    "How many European heads of state met in Paris?",
    "Who is Ukraine's largest military and financial backer?",
    "Did the US sideline European states in peace talks?",
    "legal framework for French troops on Ukrainian soil",
    "regenerating Ukraine's armed forces",
    "What did the UK prime minister sign?",
    "Trump strongly stands behind security protocols",
    "Will allies take part in a US-led monitoring process?",
    "demilitarised zone along the line of contact",
    "fortress belt",
    "What did the Danish government say?",
    "Has Russia agreed to the terms?",
    "Which commission president spoke about binding commitments?",
    "What are the security protocols meant to deter?",
    "How strong are the security protocols according to the envoy?",
    "Who called for renewed pressure on Moscow?",
    "What are the worries hanging over the Paris meeting?",
    "military secrecy",
    "Did Germany and Italy join the joint statement?",
    "What happens if Russia attacks Ukraine again?",
    "oil prices and interest rates",
    "Who reported the story?",
)


@dataclass(frozen=True)
class Config:
    requests: int
    warmup: int
    block: int = 8  # consecutive calls of one path per turn

    @classmethod
    def for_run(cls, quick: bool) -> Config:
        return cls(requests=64, warmup=8) if quick else cls(requests=320, warmup=40)


@dataclass(frozen=True)
class Latency:
    """Latencies of one way of answering, in milliseconds."""

    name: str
    ms: tuple[float, ...]
    errors: int = 0
    wall_s: float = 0.0  # for concurrent runs: first start to last end
    clients: int = 1
    server_ms: tuple[float, ...] = ()  # HTTP only: the `took_ms` the API reported for each answer

    @property
    def p50(self) -> float:
        return percentile(self.ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.ms, 99)

    @property
    def throughput(self) -> float:
        """Answered requests per second (sequential runs: 1 / mean latency)."""
        if self.wall_s:
            return len(self.ms) / self.wall_s
        return 1000 * len(self.ms) / sum(self.ms)


def questions(n: int) -> list[str]:
    return [QUESTIONS[i % len(QUESTIONS)] for i in range(n)]


#: A call answers one question and returns False when the answer was an error.
Call = Callable[[str], Any]


def time_interleaved(paths: Sequence[tuple[str, Call]], config: Config) -> list[Latency]:
    """Warm every path up, then time them taking turns in short blocks, rotating who goes first.

    Taking turns puts every path under the same background load, which matters on a shared machine. A turn is
    a block of `config.block` consecutive calls, as a service answers a burst of questions: one call at a time
    would instead time every call with its caches just evicted by the other paths' models and with the naive
    path's torch threads still spinning.
    """
    for question in questions(config.warmup):
        for _, call in paths:
            call(question)
    latencies: list[list[float]] = [[] for _ in paths]
    server: list[list[float]] = [[] for _ in paths]
    errors = [0] * len(paths)
    asked = questions(config.requests)
    for round_number, first in enumerate(range(0, len(asked), config.block)):
        block = asked[first : first + config.block]
        for turn in range(len(paths)):
            which = (round_number + turn) % len(paths)
            call = paths[which][1]
            for question in block:
                start = time.perf_counter()
                answer = call(question)
                latencies[which].append((time.perf_counter() - start) * 1000)
                errors[which] += answer is False
                if isinstance(answer, float):
                    server[which].append(answer)
    return [
        Latency(name, tuple(latencies[i]), errors[i], server_ms=tuple(server[i])) for i, (name, _) in enumerate(paths)
    ]


# --------------------------------------------------------------------------- the two in-process paths


def seed_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(SEEDS.iterdir()) if p.is_file()]


def naive_search() -> tuple[Call, int]:
    """The naive search over the seed documents' blank-line chunks, and the number of chunks."""
    from benchmarks.naive import NaiveSearch, blank_line_chunks

    naive = NaiveSearch([chunk for text in seed_texts() for chunk in blank_line_chunks(text)])
    return (lambda q: naive.search(q, 5)), len(naive.chunks)


def product_search(index_dir: Path) -> tuple[Call, dict[str, Any], Callable[[], None]]:
    """`SearchEngine.search(q, k=5)` on `index_dir` with default settings, what it runs on, and a closer."""
    from indexer.embedding import load_embedder
    from indexer.local_store import LocalStore as LoadedIndex
    from indexer.settings import EncoderSettings
    from search_api.engine import SearchEngine
    from search_api.fusion import SearchOptions
    from search_api.settings import SearchSettings

    settings = EncoderSettings()
    embedder = load_embedder(
        settings.model, backend=settings.backend, device=settings.device, cache_dir=settings.cache_dir
    )
    loaded = LoadedIndex(index_dir)
    engine = SearchEngine(loaded, embedder, SearchOptions.from_settings(SearchSettings()))
    info = {
        "passages": loaded.manifest.passages,
        "backend": embedder.backend,
        "query_backend": getattr(embedder, "query_backend", embedder.backend),
    }
    return (lambda q: engine.search(q, k=5)), info, loaded.close


# --------------------------------------------------------------------------- HTTP


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`seedsearch serve` as a child process on a free loopback port, stopped on exit."""

    def __init__(
        self, index_dir: Path, log_path: Path, start_timeout_s: float = 180.0, extra_args: Sequence[str] = ()
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log_path.open("wb")
        command = [
            sys.executable,
            "-m",
            "seedsearch.cli",
            "serve",
            "--index",
            str(index_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *extra_args,
        ]
        self.proc = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=offline_env())
        self._wait_ready(log_path, start_timeout_s)

    def _wait_ready(self, log_path: Path, timeout_s: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"`seedsearch serve` exited with {self.proc.returncode}: "
                    f"{log_path.read_text(errors='replace')[-2000:]}"
                )
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"`seedsearch serve` did not answer /health within {timeout_s:.0f} s; see {log_path}"
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _ask(client: Any, question: str) -> float | bool:
    """One `GET /search?q=...&k=5`: the server's `took_ms`, or False for anything but a 200 with results."""
    import httpx

    try:
        response = client.get("/search", params={"q": question, "k": 5})
        body = response.json()
        if response.status_code != 200 or not body.get("results"):
            return False
        return float(body["took_ms"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return False


def http_latency(url: str, config: Config, clients: int) -> Latency:
    """`clients` threads, each with its own connection, share `config.requests` requests after a warm-up."""
    import httpx

    with httpx.Client(base_url=url, timeout=30) as client:
        for question in questions(config.warmup):
            _ask(client, question)
    todo = questions(config.requests)
    shares = [todo[i::clients] for i in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    server: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    ends = [0.0] * clients
    barrier = threading.Barrier(clients + 1)

    def worker(i: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            client.get("/health")  # open the connection before the clock starts
            barrier.wait()
            for question in shares[i]:
                start = time.perf_counter()
                answer = _ask(client, question)
                latencies[i].append((time.perf_counter() - start) * 1000)
                errors[i] += answer is False
                if isinstance(answer, float):
                    server[i].append(answer)
            ends[i] = time.perf_counter()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    name = f"HTTP GET /search, {clients} client{'s' if clients > 1 else ''}"
    flat = tuple(ms for part in latencies for ms in part)
    return Latency(name, flat, sum(errors), max(ends) - start, clients, tuple(ms for p in server for ms in p))


# --------------------------------------------------------------------------- the benchmark


def build_seed_index(index_dir: Path, *more_sources: Path) -> None:
    """`seedsearch build --full` of seeds/ (and any more sources) into `index_dir`, as its own process."""
    command = [sys.executable, "-m", "seedsearch.cli", "build", "--index", str(index_dir), "--full", "--quiet"]
    for source in (SEEDS, *more_sources):
        command += ["--source", str(source)]
    done = subprocess.run(command, capture_output=True, text=True, env=offline_env(), check=False)
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` failed: {done.stderr[-2000:]}")


def measure(config: Config, workdir: Path, log: Log = print) -> tuple[list[Latency], dict[str, Any]]:
    import httpx

    index_dir = workdir / "seed-index"
    log("query: building the seed index")
    build_seed_index(index_dir)
    log("query: loading the naive search and the product's engine")
    naive, chunks = naive_search()
    product, info, close = product_search(index_dir)
    log("query: starting `seedsearch serve`")
    try:
        with (
            Server(index_dir, workdir / "serve.log") as server,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            log("query: naive, in-process and HTTP (1 client), taking turns")
            sequential = time_interleaved(
                [
                    ("naive in-process: ST.encode(1 query) + IndexFlatIP", naive),
                    ("seedsearch in-process: SearchEngine.search(k=5, hybrid)", product),
                    ("HTTP GET /search, 1 client", lambda q: _ask(client, q)),
                ],
                config,
            )
            log(f"query: HTTP, {CLIENTS} clients")
            many = http_latency(server.url, config, CLIENTS)
    finally:
        close()
    return [*sequential, many], {**info, "naive_chunks": chunks}


def section(results: list[Latency], info: dict[str, Any], config: Config) -> Section:
    naive, product, one, many = results
    rows = tuple(
        (
            r.name,
            str(len(r.ms)),
            f"{r.p50:.2f}",
            f"{percentile(r.ms, 90):.2f}",
            f"{r.p99:.2f}",
            f"{r.throughput:.1f}",
            str(r.errors),
            f"{r.p50 / naive.p50:.2f}x",
            f"{percentile(r.server_ms, 50):.2f}" if r.server_ms else "-",
        )
        for r in results
    )
    table = Table(
        f"Seed index ({info['passages']} passages; naive: {info['naive_chunks']} blank-line chunks), k=5, "
        f"{len(QUESTIONS)} questions cycled, {config.warmup} warm-up calls per path; the first three paths "
        f"took turns in blocks of {config.block} calls:",
        (
            "path",
            "requests",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "requests/s",
            "errors",
            "p50 vs naive",
            "server took_ms p50",
        ),
        rows,
    )
    ratio = one.p50 / naive.p50
    notes = [
        f"Product embedder: passages {info['backend']}, queries {info['query_backend']} (the `auto` choice); "
        "the server loads the same settings.",
        "server took_ms is the engine time the API reports in each answer (encode + search + fusion + "
        "highlights); the rest of an HTTP round trip is the HTTP stack, FastAPI, JSON and the client.",
        "HTTP latencies are client-side round trips (httpx, keep-alive connection) to `seedsearch serve` "
        "on 127.0.0.1; client and server share the machine's cores. Sequential paths: requests/s = 1 / mean.",
        f"The {CLIENTS}-client run splits the same {config.requests} requests over {CLIENTS} threads started "
        "together; requests/s = answered requests / (first start to last end).",
        f"For scale: the naive in-process p50 measured earlier on this machine type when it was quiet was "
        f"{ANCHOR_NAIVE_P50_MS[0]:.0f}-{ANCHOR_NAIVE_P50_MS[1]:.0f} ms; the HTTP p50 here is "
        f"{one.p50 / ANCHOR_NAIVE_P50_MS[1]:.2f}-{one.p50 / ANCHOR_NAIVE_P50_MS[0]:.2f}x of that anchor. "
        "Torch with 2 intra-op threads (the naive default) slows down badly while another process holds a "
        "core.",
    ]
    targets = [
        Target(
            "HTTP p50 (1 client) vs naive in-process p50",
            "<= 0.7x",
            f"{ratio:.2f}x ({one.p50:.2f} ms vs {naive.p50:.2f} ms)",
            ratio <= 0.7,
        ),
        Target(
            "HTTP round trip beats the naive in-process call",
            "HTTP p50 < naive p50",
            f"p50 {one.p50:.2f} < {naive.p50:.2f} ms; p99 {one.p99:.2f} vs {naive.p99:.2f} ms",
            one.p50 < naive.p50,
        ),
        Target(
            f"HTTP with {CLIENTS} concurrent clients",
            "zero errors; report throughput, p50/p99",
            f"{many.errors} errors of {len(many.ms)}; {many.throughput:.1f} req/s; p50 {many.p50:.2f} ms, "
            f"p99 {many.p99:.2f} ms",
            many.errors == 0,
        ),
        Target(
            "product in-process p50 vs naive in-process p50",
            "report",
            f"{product.p50 / naive.p50:.2f}x ({product.p50:.2f} vs {naive.p50:.2f} ms)",
            None,
        ),
    ]
    return Section("Query latency", [table], notes, targets)


def run(quick: bool = False, log: Log = print) -> Section:
    config = Config.for_run(quick)
    workdir = Path(tempfile.mkdtemp(prefix="seedsearch-bench-query-"))
    try:
        results, info = measure(config, workdir, log)
        return section(results, info, config)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Query latency: naive, in-process and HTTP.")
    parser.add_argument("--quick", action="store_true", help="64 timed requests per path instead of 320.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the section as markdown here.")
    args = parser.parse_args(argv)
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    result = run(args.quick)
    text = result.to_markdown()
    report(text, args.out)


if __name__ == "__main__":
    main()
