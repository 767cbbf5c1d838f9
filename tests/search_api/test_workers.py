"""`seedsearch serve --workers 2`: two processes on one port, one mapped index, each following hot reloads."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from indexer.build import build_index
from indexer.embedding import Embedder
from indexer.index_dir import resolve_build
from tests.search_api.test_reload import ENV, Server, serving

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
    children = psutil.Process(server.process.pid).children()
    return [c for c in children if "spawn_main" in " ".join(c.cmdline()) and "resource_tracker" not in c.cmdline()[-1]]


def mapped_vectors(worker: psutil.Process) -> set[str]:
    return {m.path for m in worker.memory_maps() if m.path.endswith("vectors.npy")}


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
