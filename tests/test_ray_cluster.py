"""A real two-node Ray cluster on this machine (`ray start --head` + `ray start --address`, one CPU each).

`seedsearch build --ray ADDRESS` over the seeds and some Reuters stories gives the index a local build gives;
a second build that loses the worker node midway either completes correctly or fails with one line, and the
published index is never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pytest

from indexer.build import build_index
from indexer.embedding import Embedder
from indexer.index_dir import resolve_build
from indexer.local_store import LocalStore
from search_api.engine import SearchEngine
from tests.indexer.test_ray_build import snapshot
from tests.paths import REPO, REUTERS, SEED_QUESTIONS, SEEDS, shared_file

pytest.importorskip("ray", reason="the `ray` extra is not installed (make setup installs it)")
pytestmark = pytest.mark.slow

STORIES = 100
RAY = Path(sys.executable).with_name("ray")
NODE = ["--num-cpus=1", "--node-ip-address=127.0.0.1", "--object-store-memory=100000000", "--disable-usage-stats",
        "--block"]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def node_ports(ports: list[int]) -> list[str]:
    """Ports a second node on the same machine must not share with the first."""
    names = ["dashboard-agent-listen-port", "dashboard-agent-grpc-port", "metrics-export-port",
             "runtime-env-agent-port"]
    return [f"--{name}={port}" for name, port in zip(names, ports, strict=True)]


@dataclass
class Cluster:
    address: str
    env: dict[str, str]
    head: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]

    def alive_nodes(self) -> int:
        status = subprocess.run([str(RAY), "status", f"--address={self.address}"], env=self.env,
                                capture_output=True, text=True, timeout=60).stdout
        active = status.split("Active:", 1)[-1].split("Pending:", 1)[0]
        return sum(1 for line in active.splitlines() if "node_" in line)

    def kill_worker(self) -> None:
        """Kill every process of the second node at once: `ray start`, its raylet, and the raylet's workers."""
        processes = node_processes(self.worker)
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(processes, timeout=30)
        self.worker.wait(timeout=30)


def node_processes(node: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """A node's processes: its `ray start --block` and every descendant (workers run in sessions of their own)."""
    try:
        root = psutil.Process(node.pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def stop(node: subprocess.Popen[bytes]) -> None:
    processes = node_processes(node)
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=20)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    node.wait(timeout=20)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    temp = tempfile.mkdtemp(prefix="ssray", dir="/tmp")  # short: Ray's socket paths have a length limit
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAY_AUTH_MODE": "disabled", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    port, *ports = free_ports(9)
    logs = open(Path(temp) / "nodes.log", "wb")  # noqa: SIM115  (closed after the nodes stop)
    head = subprocess.Popen([str(RAY), "start", "--head", f"--port={port}", "--include-dashboard=false",
                             f"--temp-dir={temp}", *NODE, *node_ports(ports[:4])],
                            env=env, stdout=logs, stderr=subprocess.STDOUT, start_new_session=True)
    worker = subprocess.Popen([str(RAY), "start", f"--address=127.0.0.1:{port}", *NODE, *node_ports(ports[4:8])],
                              env=env, stdout=logs, stderr=subprocess.STDOUT, start_new_session=True)
    running = Cluster(f"127.0.0.1:{port}", env, head, worker)
    try:
        deadline = time.monotonic() + 180
        while running.alive_nodes() < 2:
            assert time.monotonic() < deadline, (Path(temp) / "nodes.log").read_text(errors="replace")[-3000:]
            time.sleep(2)
        yield running
    finally:
        stop(worker)
        stop(head)
        logs.close()
        shutil.rmtree(temp, ignore_errors=True)


def seedsearch_build(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "seedsearch.cli", "build", "--quiet", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    stories = tmp_path_factory.mktemp("reuters") / "stories.jsonl"
    with shared_file(REUTERS).open(encoding="utf-8") as source:
        stories.write_text("".join(line for _, line in zip(range(STORIES), source, strict=False)), encoding="utf-8")
    return ["--source", str(SEEDS), "--source", str(stories)]


def top5(index: Path, embedder: Embedder, questions: list[str]) -> list[list[tuple[str, int]]]:
    engine = SearchEngine(LocalStore(index), embedder)
    return [[(h.passage.doc_id, h.passage.position) for h in engine.search(q, k=5).hits] for q in questions]


def assert_same_index(built: Path, reference: Path) -> None:
    _, passages_a, vectors_a, manifest_a = snapshot(reference)
    _, passages_b, vectors_b, manifest_b = snapshot(built)
    assert passages_b == passages_a
    assert float(np.sum(vectors_a * vectors_b, axis=1).min()) >= 0.9999
    assert (manifest_b.backend, manifest_b.vector_index) == (manifest_a.backend, manifest_a.vector_index)


@pytest.mark.timeout(900)
def test_a_cluster_build_equals_a_local_build_and_survives_losing_a_node(
    cluster: Cluster, sources: list[str], tmp_path: Path, real_embedder: Embedder
) -> None:
    local, distributed = tmp_path / "local", tmp_path / "ray"
    build_index([Path(s) for s in sources[1::2]], local, real_embedder)
    done = seedsearch_build(cluster.env, *sources, "--index", str(distributed), "--ray", cluster.address)
    assert done.returncode == 0, done.stderr
    assert "2 node(s)" in done.stderr
    assert_same_index(distributed, local)
    questions = [json.loads(line)["question"] for line in shared_file(SEED_QUESTIONS).read_text().splitlines()]
    assert top5(distributed, real_embedder, questions) == top5(local, real_embedder, questions)

    published = resolve_build(distributed)
    build = subprocess.Popen(
        [sys.executable, "-m", "seedsearch.cli", "build", "--quiet", "--full", *sources, "--index", str(distributed),
         "--ray", cluster.address],
        env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 300
    while not any(p.name.startswith(".tmp-") for p in (distributed / "builds").iterdir()):  # the build is writing
        assert build.poll() is None and time.monotonic() < deadline, build.communicate()
        time.sleep(0.2)
    time.sleep(3)  # the pipeline has started: tasks and actors run on both nodes
    cluster.kill_worker()
    out, err = build.communicate(timeout=600)
    if build.returncode == 0:
        assert_same_index(distributed, local)
    else:
        lines = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and "Traceback" not in err, err
        assert resolve_build(distributed) == published
        assert_same_index(distributed, local)
    assert not [p for p in (distributed / "builds").iterdir() if p.name.startswith(".tmp-")]
