"""`seedsearch serve --workers 2`: two processes on one port, one mapped index, each following hot reloads."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from indexer.build import build_index
from indexer.embedding import Embedder
from indexer.index_dir import resolve_build
from tests.search_api.test_reload import ENV, REPO, Server, serving

pytestmark = pytest.mark.slow


@pytest.fixture
def served(real_seed_index: Path, tmp_path: Path) -> Path:
    index_dir = tmp_path / "served"
    shutil.copytree(real_seed_index, index_dir, symlinks=True)
    return index_dir


@pytest.fixture
def two_workers(served: Path) -> Iterator[Server]:
    with serving(served, {**ENV, "SEEDSEARCH_RELOAD_INTERVAL_S": "0.5"}, "--workers", "2") as server:
        yield server


def workers(server: Server) -> list[psutil.Process]:
    """The server's live worker processes (a worker just killed is a zombie until the server reaps it)."""

    def command(child: psutil.Process) -> str:
        try:
            return " ".join(child.cmdline()) if child.status() != psutil.STATUS_ZOMBIE else ""
        except psutil.Error:
            return ""

    children = psutil.Process(server.process.pid).children()
    return [c for c in children if "spawn_main" in command(c) and "resource_tracker" not in command(c)]


def mapped_vectors(worker: psutil.Process) -> set[str]:
    return {m.path for m in worker.memory_maps() if m.path.endswith("/vectors.npy")}


def wait_for(condition: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def test_two_workers_share_the_mapped_index_and_each_follows_a_rebuild(
    two_workers: Server, served: Path, seed_copy: Path, real_embedder: Embedder
) -> None:
    pair = workers(two_workers)
    assert len(pair) == 2
    first_vectors = str(resolve_build(served).resolve() / "vectors.npy")
    assert wait_for(lambda: all(mapped_vectors(w) == {first_vectors} for w in pair), 180)
    for _ in range(10):  # a fresh connection each time, so both workers answer some
        answer = httpx.get(f"{two_workers.url}/search", params={"q": "Greenland", "k": 3}, timeout=30)
        assert answer.status_code == 200 and answer.json()["results"]

    (seed_copy / "zanzibar.txt").write_text(
        "Zanzibar clove exporters\n\nClove exporters in Zanzibar shipped a record harvest to India.\n",
        encoding="utf-8",
    )
    report = build_index([seed_copy], served, real_embedder)
    assert report.build_dir is not None
    second_vectors = str(report.build_dir.resolve() / "vectors.npy")
    assert wait_for(lambda: all(second_vectors in mapped_vectors(w) for w in pair), 60), [
        mapped_vectors(w) for w in pair
    ]
    counts = {httpx.get(f"{two_workers.url}/stats", timeout=30).json()["documents"] for _ in range(20)}
    assert counts == {2}
    health = httpx.get(f"{two_workers.url}/health", timeout=30)
    assert health.status_code == 200 and health.json()["documents"] == 2

    logged = two_workers.stop()
    assert two_workers.process.returncode == 0 and "Traceback" not in logged, logged
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in pair)


def listening(worker: psutil.Process, port: int) -> bool:
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in worker.net_connections("tcp"))


def held_connections(worker: psutil.Process, port: int) -> int:
    return sum(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port for c in worker.net_connections("tcp"))


def test_connections_opened_at_once_are_spread_over_the_workers_and_a_dead_worker_is_replaced(
    two_workers: Server,
) -> None:
    port = int(two_workers.url.rsplit(":", 1)[1])
    pair = workers(two_workers)
    assert wait_for(lambda: all(listening(w, port) for w in pair), 180)
    clients = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(16)]
    try:
        for client in clients:  # a burst of keep-alive clients, as a load generator or a proxy opens them
            client.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        for client in clients:
            assert client.recv(65536).startswith(b"HTTP/1.1 200")
        held = [held_connections(w, port) for w in pair]
        assert sum(held) == 16 and min(held) >= 1, held  # with one shared socket one worker took all 16
    finally:
        for client in clients:
            client.close()

    pair[0].send_signal(signal.SIGKILL)
    assert wait_for(lambda: len(workers(two_workers)) == 2 and pair[0] not in workers(two_workers), 30)
    replacement = next(w for w in workers(two_workers) if w != pair[1])
    assert wait_for(lambda: listening(replacement, port), 180)
    answers = {httpx.get(f"{two_workers.url}/health", timeout=30).status_code for _ in range(10)}
    assert answers == {200}
    logged = two_workers.stop()
    assert two_workers.process.returncode == 0 and "Traceback" not in logged, logged


def test_a_port_already_in_use_is_one_clear_line(served: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "seedsearch.cli", "serve", "--index", str(served), "--port", str(port),
             "--workers", "2"],
            cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "choose another --port" in done.stderr
    assert "Traceback" not in done.stderr
