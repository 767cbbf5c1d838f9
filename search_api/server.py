"""Run the API under uvicorn with limits that keep one hostile client from stalling the others.

uvicorn alone caps neither the size nor the number of request headers (with httptools), and has no time-out for
a connection that never sends, for headers sent one line a second, or for a body sent a few bytes a second:
its only time-out is keep-alive, between requests. :class:`GuardedHttpToolsProtocol` adds them to uvicorn's
httptools protocol, per connection, so they hold in every worker process:

- headers larger than ``max_header_bytes`` or more than ``max_headers`` of them: ``431`` at once, the rest of
  what the client sends thrown away unread for a moment so it can read the answer, then the connection closed;
- headers not complete ``header_timeout_s`` after the connection opens (or after the previous response): ``408``
  and closed (this covers sockets that send nothing);
- a body not complete ``body_timeout_s`` after its headers: ``408`` and closed.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import multiprocessing.process
import os
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol


@dataclass(frozen=True)
class ConnectionLimits:
    """Per-connection limits; the defaults are what ``seedsearch serve`` runs with (stated in the README)."""

    max_header_bytes: int = 64 * 1024
    max_headers: int = 100
    header_timeout_s: float = 10.0
    body_timeout_s: float = 20.0
    keep_alive_s: int = 5
    linger_s: float = 2.0  # how long a refused client may keep sending before it is cut off


LIMITS = ConnectionLimits()
_M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header size and count caps and header and body time-outs."""

    limits: ConnectionLimits = LIMITS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_bytes = 0  # bytes received while the headers are incomplete (caught while streaming)
        self._parsed_bytes = 0  # bytes of the request line and headers parsed so far (caught in one chunk)
        self._header_count = 0
        self._in_headers = True
        self._refused = False
        self._deadline: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------------------------------ connection
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout_s, "request headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # thrown away unread, so the client can finish sending and read the answer
        super().data_received(data)
        if self._refused or self.transport.is_closing():
            return
        if self._in_headers:
            self._header_bytes += len(data)
            if self._header_bytes > self.limits.max_header_bytes:
                self._refuse(431, f"request headers over {self.limits.max_header_bytes} bytes")

    # ------------------------------------------------------------------------------------------ parser
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0
        self._parsed_bytes = 0
        self._in_headers = True

    def on_url(self, url: bytes) -> None:
        self._parsed_bytes += len(url)
        if self._parsed_bytes <= self.limits.max_header_bytes:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._parsed_bytes += len(name) + len(value) + 4
        if self._header_count <= self.limits.max_headers and self._parsed_bytes <= self.limits.max_header_bytes:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
        if self._header_count > self.limits.max_headers:
            self._refuse(431, f"more than {self.limits.max_headers} request headers")
            return
        if self._parsed_bytes > self.limits.max_header_bytes:
            self._refuse(431, f"request headers over {self.limits.max_header_bytes} bytes")
            return
        super().on_headers_complete()
        self._arm(self.limits.body_timeout_s, "request body")

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm(self.limits.header_timeout_s, "request headers")

    # ------------------------------------------------------------------------------------------ limits
    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._timed_out, what)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self, what: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()
            return
        self._refuse(408, f"{what} not received within the time allowed")

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with ``message``, stop reading the request, and close soon."""
        self._refused = True
        self._disarm()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app, if it started, writes nothing more
            self.cycle.message_event.set()
        body = f"{message}; see the README (server limits)".encode("ascii")
        self.transport.write(
            STATUS_LINE[status]
            + b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: "
            + str(len(body)).encode("ascii")
            + b"\r\n\r\n"
            + body
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(self.limits.linger_s, self.transport.abort)


def uvicorn_options(host: str, port: int) -> dict[str, Any]:
    """The ``uvicorn.run`` options of ``seedsearch serve``: guarded protocol, keep-alive, quiet logs.

    The limits live in the protocol class, so several workers get them too when uvicorn is run with
    ``--http search_api.server:GuardedHttpToolsProtocol``.
    """
    return {
        "host": host,
        "port": port,
        "http": "search_api.server:GuardedHttpToolsProtocol",
        "timeout_keep_alive": LIMITS.keep_alive_s,
        "log_level": "warning",
        "access_log": False,
    }


class ThreadPoolLimit:
    """ASGI wrapper that sizes the pool of threads running synchronous routes when the app starts.

    Searches are CPU-bound, so more threads than a few per core add no throughput, only memory: every thread
    keeps its own SQLite connection and page cache, and the default pool grows to 40 under load.
    """

    def __init__(self, app: Any, threads: int) -> None:
        self.app = app
        self.threads = threads

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = self.threads
        await self.app(scope, receive, send)


def request_threads(workers: int = 1) -> int:
    """Threads for synchronous routes: two per core this process may use (its share of them), at least four."""
    return max(4, 2 * cores_per_worker(workers))


def cores_per_worker(workers: int) -> int:
    """Each worker's share of the cores this process may use, so N workers' threads do not fight."""
    return max(1, len(os.sched_getaffinity(0)) // max(1, workers))


def serve_api(app: Any, host: str, port: int) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, with the connection limits above; returns after a clean stop."""
    try:
        uvicorn.run(ThreadPoolLimit(app, request_threads()), **uvicorn_options(host, port))
    except KeyboardInterrupt:  # uvicorn re-raises the stopping signal after its graceful shutdown
        pass


_WORKERS_ENV = "SEEDSEARCH_WORKERS"


def serve_workers(workers: int, host: str, port: int) -> None:
    """Serve from `workers` processes on one port, each with the app of `worker_app` (settings from the environment).

    Every worker loads the encoder, maps the same read-only index files (the page cache holds them once) and
    follows hot reloads on its own. Each listens on a socket of its own bound with ``SO_REUSEPORT``, so the kernel
    spreads new connections over the workers by a hash of their addresses and a worker still loading takes none:
    on one socket shared by all (uvicorn's ``--workers``), the worker that woke first accepted every connection
    a burst of clients opened, and kept-alive connections stayed with it. The encoder's and FAISS's threads are
    sized to each worker's share of the cores. A worker that dies is started again; one that dies while starting
    stops the server with its exit status.
    """
    share = str(cores_per_worker(workers))
    os.environ[_WORKERS_ENV] = str(workers)
    os.environ.setdefault("SEEDSEARCH_THREADS", share)
    os.environ.setdefault("OMP_NUM_THREADS", share)  # FAISS; read when a worker first imports it
    if not hasattr(socket, "SO_REUSEPORT"):  # not Linux or BSD: one shared socket, uvicorn's own supervisor
        try:
            uvicorn.run("search_api.server:worker_app", factory=True, workers=workers, **uvicorn_options(host, port))
        except KeyboardInterrupt:
            pass
        return
    try:
        _listening_socket(host, port, reuse_port=False).close()  # the port is free: say so now, not per worker
    except OSError as err:
        raise ValueError(
            f"cannot listen on {host}:{port}: {err.strerror or err}; stop what listens there or choose another --port"
        ) from None
    WorkerGroup(workers, host, port).run()


class WorkerGroup:
    """`count` spawned worker processes, each serving `worker_app` on its own ``SO_REUSEPORT`` socket."""

    def __init__(self, count: int, host: str, port: int) -> None:
        self.count, self.host, self.port = count, host, port
        self._context = multiprocessing.get_context("spawn")

    def run(self) -> None:
        """Until SIGINT or SIGTERM (KeyboardInterrupt, see `prepare_server_process`), then stop every worker."""
        workers = [self._start() for _ in range(self.count)]
        try:
            while True:
                time.sleep(0.5)
                for position, (process, ready) in enumerate(workers):
                    if process.is_alive():
                        continue
                    if not ready.is_set():
                        raise SystemExit(process.exitcode or 1)  # the worker's own error is in the log above
                    logging.getLogger(__name__).warning(
                        "worker %s exited (status %s); starting another", process.pid, process.exitcode
                    )
                    workers[position] = self._start()
        except KeyboardInterrupt:
            pass
        finally:
            for process, _ in workers:
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
            for process, _ in workers:
                process.join(timeout=30)
                if process.is_alive():
                    process.kill()

    def _start(self) -> tuple[multiprocessing.process.BaseProcess, Any]:
        ready = self._context.Event()
        process = self._context.Process(
            target=_run_worker, args=(self.host, self.port, ready), name="seedsearch-worker", daemon=False
        )
        process.start()
        return process, ready


def _run_worker(host: str, port: int, ready: Any) -> None:
    """One worker: its own socket in the port's SO_REUSEPORT group, uvicorn serving `worker_app` on it."""
    config = uvicorn.Config("search_api.server:worker_app", factory=True, **uvicorn_options(host, port))
    server = _ReadyServer(config, ready)
    server.run(sockets=[_listening_socket(host, port, reuse_port=True)])


class _ReadyServer(uvicorn.Server):
    """A uvicorn server that tells its group once it has started (the model loaded, the socket listening)."""

    def __init__(self, config: uvicorn.Config, ready: Any) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._ready.set()


def _listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = addresses[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def worker_app() -> Any:
    """The app of one worker process of `serve_workers`."""
    from search_api.app import create_app

    prepare_server_process(signals=False)
    return ThreadPoolLimit(create_app(), request_threads(int(os.environ.get(_WORKERS_ENV, "1"))))


def prepare_server_process(malloc_arenas: int = 2, *, signals: bool = True) -> None:
    """Call first thing in a serving process: stopping signals and memory arenas.

    SIGINT and SIGTERM stop start-up (loading the model) with KeyboardInterrupt: a command started in the
    background by a script inherits SIGINT ignored, and SIGTERM kills without clean-up by default; uvicorn
    installs its own handlers once the server starts. glibc gives each thread that allocates its own malloc
    arena (up to 8 per core), so a server whose requests run on a pool of threads grows its resident memory
    with every thread the pool adds; capping the arenas keeps it flat under a long load.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    if signals:  # not in a worker of `serve_workers`: uvicorn's own handlers already stop it cleanly
        signal.signal(signal.SIGINT, interrupt)
        signal.signal(signal.SIGTERM, interrupt)
    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, malloc_arenas)
    except (OSError, AttributeError):  # not glibc: nothing to cap
        pass
