"""The served API (search_api.server) caps headers and times out slow or silent clients, while other clients
are answered at once. A real server in a subprocess, raw sockets as the hostile clients."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.bench_hostile import attack, big_header, many_headers, start_server
from search_api.server import LIMITS


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    process, port = start_server(tmp_path_factory.mktemp("hostile") / "index")
    yield port
    process.terminate()
    process.wait(timeout=30)


def test_normal_requests_keep_working_on_one_connection(port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {f"X-Extra-{i}": "v" * 100 for i in range(50)} | {"X-API-Key": "secret-key"}
    for _ in range(3):
        connection.request("GET", "/health", headers=headers)
        assert connection.getresponse().read() and True
    body = json.dumps({"query": "Greenland", "k": 2})
    connection.request("POST", "/search", body=body, headers={"X-API-Key": "secret-key",
                                                              "Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200 and json.loads(response.read())["results"]
    connection.close()


def test_a_64_mb_header_is_refused_with_431_at_once(port: int) -> None:
    status, seconds = big_header(port, b"a" * (64 << 20), limit_s=30)
    assert status == 431 and seconds < 2


@pytest.mark.parametrize("count", [LIMITS.max_headers + 1, 2_000])
def test_too_many_headers_are_refused_with_431(port: int, count: int) -> None:
    status, seconds = many_headers(port, count, limit_s=30)
    assert status == 431 and seconds < 2


def test_a_header_just_over_the_size_limit_is_refused(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (100 * 1024) + b"\r\n\r\n")
    assert sock.recv(1024).startswith(b"HTTP/1.1 431 ")
    sock.close()


def test_hostile_clients_are_cut_off_while_health_answers(port: int) -> None:
    report = attack(port, silent_sockets=50, slow_clients=5, header_mb=64, limit_s=40)
    assert report.health_errors == 0 and len(report.health_ms) > 50
    assert max(report.health_ms) < 1_000  # the benchmark measures the 100 ms target on a quiet machine
    assert report.big_header[0] == 431 and report.many_headers[0] == 431
    assert all(status == 408 and seconds < 30 for status, seconds in report.slowloris)
    assert report.slow_body[0] == 408 and report.slow_body[1] < 30
    assert all(closed is not None and closed < 30 for closed in report.silent_closed_s)


def test_benchmark_module_is_importable_from_the_repository() -> None:
    assert Path(__file__).resolve().parents[2].joinpath("benchmarks", "bench_hostile.py").exists()


def test_synchronous_routes_run_on_a_pool_sized_to_the_cores() -> None:
    import anyio.to_thread
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from search_api.server import ThreadPoolLimit, request_threads

    app = FastAPI()

    @app.get("/pool")
    async def pool() -> int:
        return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    with TestClient(ThreadPoolLimit(app, request_threads())) as client:
        assert client.get("/pool").json() == request_threads() < 40
