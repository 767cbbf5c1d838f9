"""Hostile clients against the API: does `/health` stay fast, and is every hostile connection cut off?

    python -m benchmarks.bench_hostile [--plain] [--silent 200] [--slowloris 20] [--header-mb 64]

A server (the real app over the seed document, fake embedder: the protocol is what is measured) starts in a
subprocess with `search_api.server`'s configuration, or with plain uvicorn (`--plain`, httptools) for
comparison. At once: one client sends a request with a 64 MB header, one with 2,000 headers, `--silent`
sockets connect and send nothing, `--slowloris` clients send one header line a second, and one sends a body
3 bytes a second. Meanwhile another client, in its own process, asks `GET /health` (a new connection each
time) every 50 ms.

Prints the `/health` latencies (p50, max), what each hostile client got (status, seconds) and when the silent
sockets were closed. Targets: `/health` max under 100 ms, oversized headers answered 431 within 2 s, every
hostile connection closed within 30 s. Exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
Outcome = tuple[int | None, float]  # HTTP status (None: closed without an answer), seconds from the start


@dataclass
class HostileReport:
    """What the hostile clients got and how `/health` answered meanwhile."""

    health_ms: list[float] = field(default_factory=list)
    health_errors: int = 0
    big_header: Outcome = (None, -1.0)
    many_headers: Outcome = (None, -1.0)
    slow_body: Outcome = (None, -1.0)
    slowloris: list[Outcome] = field(default_factory=list)
    silent_closed_s: list[float | None] = field(default_factory=list)

    def hostile(self) -> list[Outcome]:
        return [self.big_header, self.many_headers, self.slow_body, *self.slowloris]


def _status(data: bytes) -> int | None:
    if data.startswith(b"HTTP/1."):
        return int(data.split(b" ", 2)[1])
    return None


def _read_answer(sock: socket.socket, started: float, limit_s: float) -> Outcome:
    """Read until the server answers or closes; (status, seconds since `started`)."""
    sock.settimeout(max(0.1, limit_s - (time.perf_counter() - started)))
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                break
    except OSError:
        pass
    return _status(data), time.perf_counter() - started


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def big_header(port: int, payload: bytes, limit_s: float) -> Outcome:
    """Send `payload` as one header value (built beforehand: making 64 MB would stall this process's probe)."""
    started = time.perf_counter()
    sock = _connect(port)
    try:
        sock.sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sock.sendall(payload)
        sock.sendall(b"\r\n\r\n")
    except OSError:
        pass  # cut off while sending: the answer may still be readable
    outcome = _read_answer(sock, started, limit_s)
    sock.close()
    return outcome


def many_headers(port: int, count: int, limit_s: float) -> Outcome:
    started = time.perf_counter()
    sock = _connect(port)
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(count))
    try:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    except OSError:
        pass
    outcome = _read_answer(sock, started, limit_s)
    sock.close()
    return outcome


def _trickle(port: int, head: bytes, pieces: Callable[[int], bytes], every_s: float, limit_s: float) -> Outcome:
    """Send `head`, then `pieces(i)` every `every_s` until the server answers or closes (or `limit_s`)."""
    started = time.perf_counter()
    sock = _connect(port)
    sock.sendall(head)
    sock.settimeout(every_s)
    data, i = b"", 0
    while time.perf_counter() - started < limit_s:
        try:
            chunk = sock.recv(65536)
            data += chunk
            if not chunk or b"\r\n\r\n" in data:
                break
        except TimeoutError:
            try:
                sock.sendall(pieces(i))
            except OSError:
                break
            i += 1
        except OSError:
            break
    sock.close()
    return _status(data), time.perf_counter() - started


def slowloris(port: int, limit_s: float) -> Outcome:
    return _trickle(port, b"GET /health HTTP/1.1\r\nHost: x\r\n", lambda i: b"X-Slow-%d: v\r\n" % i, 1.0, limit_s)


def slow_body(port: int, limit_s: float) -> Outcome:
    head = (
        b"POST /search HTTP/1.1\r\nHost: x\r\nX-API-Key: secret-key\r\nContent-Type: application/json\r\n"
        b"Content-Length: 300\r\n\r\n"
    )
    return _trickle(port, head, lambda i: b"   ", 1.0, limit_s)


def silent(port: int, count: int, limit_s: float) -> list[float | None]:
    """Open `count` sockets that send nothing; when was each closed by the server (None: still open)?"""
    import selectors

    started = time.perf_counter()
    socks = [_connect(port) for _ in range(count)]
    closed: dict[socket.socket, float] = {}
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, data=sock)
        while len(closed) < count and time.perf_counter() - started < limit_s:
            for key, _ in selector.select(timeout=0.5):
                ready: socket.socket = key.data
                try:
                    ready.recv(65536)
                except OSError:
                    pass
                closed[ready] = time.perf_counter() - started
                selector.unregister(ready)
    for sock in socks:
        sock.close()
    return [closed.get(sock) for sock in socks]


PROBE = """
import http.client, json, sys, time
port, stop_file = int(sys.argv[1]), sys.argv[2]
answers, errors = [], 0
while True:
    started = time.perf_counter()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/health")
        ok = connection.getresponse().status == 200
        connection.close()
    except OSError:
        ok = False
    if ok:
        answers.append((time.perf_counter() - started) * 1000)
    else:
        errors += 1
    try:
        open(stop_file).close()
        break
    except OSError:
        time.sleep(0.05)
print(json.dumps({"answers": answers, "errors": errors}))
"""


def start_probe(port: int, stop_file: Path) -> subprocess.Popen[bytes]:
    """`GET /health` every 50 ms from another process (so this one's threads cannot delay it) until
    `stop_file` exists; prints the latencies as JSON."""
    return subprocess.Popen([sys.executable, "-c", PROBE, str(port), str(stop_file)], stdout=subprocess.PIPE)


def attack(port: int, *, silent_sockets: int = 200, slow_clients: int = 20, header_mb: int = 64,
           limit_s: float = 35.0) -> HostileReport:
    """Run every hostile client at once against 127.0.0.1:`port` while probing `/health`."""
    report = HostileReport(slowloris=[(None, -1.0)] * slow_clients)
    payload = b"a" * (header_mb << 20)
    stop_file = Path(tempfile.mkdtemp()) / "stop"
    probe = start_probe(port, stop_file)
    time.sleep(0.5)  # a few probes before the attack

    def keep(name: str, index: int | None, job: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            value = job()
            if index is None:
                setattr(report, name, value)
            else:
                getattr(report, name)[index] = value

        return run

    jobs = [
        keep("big_header", None, lambda: big_header(port, payload, limit_s)),
        keep("many_headers", None, lambda: many_headers(port, 2_000, limit_s)),
        keep("slow_body", None, lambda: slow_body(port, limit_s)),
        keep("silent_closed_s", None, lambda: silent(port, silent_sockets, limit_s)),
        *(keep("slowloris", i, lambda: slowloris(port, limit_s)) for i in range(slow_clients)),
    ]
    threads = [threading.Thread(target=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop_file.touch()
    answers = json.loads(probe.communicate(timeout=30)[0])
    report.health_ms, report.health_errors = answers["answers"], answers["errors"]
    stop_file.unlink()
    stop_file.parent.rmdir()
    return report


# ---------------------------------------------------------------------------------------------- the server


SERVER = """
import sys
from pathlib import Path
from indexer.build import build_index
from indexer.embedding import FakeEmbedder
from indexer.settings import EncoderSettings
from search_api.app import create_app
from search_api.settings import ServerSettings
from search_api.server import serve_api
index, port, plain = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "plain"
embedder = FakeEmbedder(dimension=32)
build_index([Path("seeds")], index, embedder)
app = create_app(ServerSettings(api_key="secret-key"), encoder=EncoderSettings(index=index), embedder=embedder)
if plain:
    import uvicorn
    uvicorn.run(app, host="127.0.0.1", port=port, http="httptools", log_level="warning")
else:
    serve_api(app, "127.0.0.1", port)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(index: Path, plain: bool = False) -> tuple[subprocess.Popen[bytes], int]:
    """The app over the seed document (fake embedder) in a subprocess; returns once `/health` answers."""
    port = free_port()
    args = [sys.executable, "-c", SERVER, str(index), str(port), "plain" if plain else "guarded"]
    process = subprocess.Popen(args, cwd=REPO)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not answer /health within 60 s")


def render(report: HostileReport, label: str) -> str:
    latencies = report.health_ms or [float("nan")]
    silent_closed = [s for s in report.silent_closed_s if s is not None]
    lines = [
        f"{label}: /health {len(report.health_ms)} answers, {report.health_errors} errors, "
        f"p50 {statistics.median(latencies):.1f} ms, max {max(latencies):.1f} ms",
        f"  64 MB header:  status {report.big_header[0]} after {report.big_header[1]:.2f} s",
        f"  2,000 headers: status {report.many_headers[0]} after {report.many_headers[1]:.2f} s",
        f"  slow body:     status {report.slow_body[0]} after {report.slow_body[1]:.1f} s",
        f"  slow-loris:    statuses {sorted({str(s) for s, _ in report.slowloris})}, "
        f"closed after {max(t for _, t in report.slowloris):.1f} s at most",
        f"  silent:        {len(silent_closed)} of {len(report.silent_closed_s)} closed, the last after "
        f"{max(silent_closed, default=float('nan')):.1f} s",
    ]
    return "\n".join(lines)


def targets_met(report: HostileReport) -> bool:
    return (
        bool(report.health_ms)
        and report.health_errors == 0
        and max(report.health_ms) < 100
        and all(status in (400, 431) and seconds < 2 for status, seconds in (report.big_header, report.many_headers))
        and all(seconds < 30 for _, seconds in report.hostile())
        and all(closed is not None and closed < 30 for closed in report.silent_closed_s)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plain", action="store_true", help="plain uvicorn (httptools), for comparison")
    parser.add_argument("--silent", type=int, default=200)
    parser.add_argument("--slowloris", type=int, default=20)
    parser.add_argument("--header-mb", type=int, default=64)
    parser.add_argument("--out", type=Path, help="also write the figures here (markdown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        process, port = start_server(Path(work) / "index", plain=args.plain)
        try:
            report = attack(port, silent_sockets=args.silent, slow_clients=args.slowloris, header_mb=args.header_mb)
        finally:
            process.terminate()
            process.wait(timeout=30)
    text = render(report, "plain uvicorn" if args.plain else "seedsearch serve")
    print(text)
    if args.out:
        args.out.write_text("```\n" + text + "\n```\n", encoding="utf-8")
    return 0 if targets_met(report) else 1


if __name__ == "__main__":
    sys.exit(main())
