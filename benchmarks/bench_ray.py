"""Builds on Ray against a local build, same stories, same model, same run.

    python -m benchmarks.bench_ray [--stories 3000] [--skip-nodes] [--out ray.md]

1. The first `--stories` Reuters stories are written to a JSONL file in a temporary folder.
2. local: `build_index` in this process with the bundled model (backend auto), a full build.
3. ray local: the same build with its passage stage on `--ray local` (an in-process cluster of this machine's
   cores). Target: >= 0.85x the local build's words/s.
4. nodes: a head started with `ray start --head --num-cpus=0` (it only coordinates; the driver runs here) and
   one, then two, worker nodes of one CPU each (`ray start --address`, separate processes); the same build
   through `--ray HEAD` with 1 node, then with 2. Target: 2 nodes >= 1.3x the words/s of 1. The per-node rate
   and a projection for N nodes follow from the two runs: a build takes F + P/N seconds (F: driver-side
   listing, hashing, writing and Ray's start; P: the work the nodes share), fitted to the 1- and 2-node times.

Every figure shares the machine with whatever else runs on it: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from indexer.build import BuildReport, build_index
from indexer.distributed import ClusterOptions, EncoderSpec, RayPassages, ray_cluster
from indexer.embedding import Embedder, load_embedder

REUTERS = Path("/work/shared/datasets/reuters21578/reuters.jsonl")
RAY = Path(sys.executable).with_name("ray")


def write_stories(target: Path, limit: int) -> int:
    words = 0
    with REUTERS.open(encoding="utf-8") as source, target.open("w", encoding="utf-8") as out:
        for n, line in enumerate(source):
            if n >= limit:
                break
            words += len(json.loads(line)["text"].split())
            out.write(line)
    return words


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [int(sock.getsockname()[1]) for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def start_node(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    agent, grpc, metrics, runtime = free_ports(4)
    command = [str(RAY), "start", "--node-ip-address=127.0.0.1", "--object-store-memory=100000000",
               "--disable-usage-stats", "--block", f"--dashboard-agent-listen-port={agent}",
               f"--dashboard-agent-grpc-port={grpc}", f"--metrics-export-port={metrics}",
               f"--runtime-env-agent-port={runtime}", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def alive_nodes(address: str, env: dict[str, str]) -> int:
    status = subprocess.run([str(RAY), "status", f"--address={address}"], env=env, capture_output=True, text=True,
                            timeout=120).stdout
    active = status.split("Active:", 1)[-1].split("Pending:", 1)[0]
    return sum(1 for line in active.splitlines() if "node_" in line)


def wait_nodes(address: str, env: dict[str, str], count: int) -> None:
    deadline = time.monotonic() + 300
    while alive_nodes(address, env) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"the cluster at {address} did not reach {count} nodes")
        time.sleep(2)


@contextmanager
def head_node(env: dict[str, str]) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A coordinating head with no CPUs; worker nodes added to the returned list are stopped with it."""
    temp = tempfile.mkdtemp(prefix="ssray", dir="/tmp")
    (port,) = free_ports(1)
    nodes = [start_node(env, "--head", f"--port={port}", "--num-cpus=0", "--include-dashboard=false",
                        f"--temp-dir={temp}")]
    address = f"127.0.0.1:{port}"
    try:
        wait_nodes(address, env, 1)
        yield address, nodes
    finally:
        for node in reversed(nodes):
            if node.poll() is None:
                os.killpg(node.pid, signal.SIGTERM)
                node.wait(timeout=60)


def build(stories: Path, index: Path, embedder: Embedder, address: str | None) -> BuildReport:
    if address is None:
        return build_index([stories], index, embedder, full=True)
    spec = EncoderSpec.of(embedder, None, "cpu", None)
    with ray_cluster(ClusterOptions(address)):
        return build_index([stories], index, embedder, full=True, passages=RayPassages(spec))


def line(name: str, report: BuildReport, base: BuildReport | None) -> str:
    ratio = f"{report.words_per_s / base.words_per_s:.2f}x" if base else "1.00x"
    return (f"| {name} | {report.seconds:.1f} | {report.words_per_s:.0f} | {ratio} | {os.getloadavg()[0]:.2f} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", type=int, default=3000)
    parser.add_argument("--skip-nodes", action="store_true", help="Only the local and `--ray local` builds.")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    embedder = load_embedder()
    env = {**os.environ, "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled"),
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    os.environ["RAY_AUTH_MODE"] = env["RAY_AUTH_MODE"]
    rows = ["| build | seconds | words/s | vs local | load average |", "|---|---|---|---|---|"]
    passed = True
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as work:
        stories = Path(work) / "stories.jsonl"
        words = write_stories(stories, args.stories)
        print(f"{args.stories} stories, {words} words, backend {embedder.backend}", flush=True)
        local = build(stories, Path(work) / "local", embedder, None)
        rows.append(line("local", local, None))
        print(rows[-1], flush=True)
        on_ray = build(stories, Path(work) / "ray-local", embedder, "local")
        rows.append(line("--ray local", on_ray, local))
        print(rows[-1], flush=True)
        passed &= on_ray.words_per_s >= 0.85 * local.words_per_s
        if not args.skip_nodes:
            passed &= nodes(stories, Path(work), embedder, env, local, rows)
    text = "\n".join(rows)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if passed else 1


def nodes(stories: Path, work: Path, embedder: Embedder, env: dict[str, str], local: BuildReport,
          rows: list[str]) -> bool:
    """Builds on 1 and 2 single-CPU worker nodes, the per-node rate and the projection for N nodes."""
    with head_node(env) as (address, started):
        started.append(start_node(env, f"--address={address}", "--num-cpus=1"))
        wait_nodes(address, env, 2)
        one = build(stories, work / "one-node", embedder, address)
        rows.append(line("1 worker node", one, local))
        print(rows[-1], flush=True)
        started.append(start_node(env, f"--address={address}", "--num-cpus=1"))
        wait_nodes(address, env, 3)
        two = build(stories, work / "two-nodes", embedder, address)
        rows.append(line("2 worker nodes", two, local))
        print(rows[-1], flush=True)
    scaling = two.words_per_s / one.words_per_s
    shared = max(0.0, 2 * (one.seconds - two.seconds))  # P in t(N) = F + P / N
    fixed = max(0.0, one.seconds - shared)
    rows += ["", f"2 nodes vs 1: {scaling:.2f}x; per node: {one.words_per_s:.0f} words/s with 1 node, "
             f"{two.words_per_s / 2:.0f} words/s each with 2; fitted t(N) = {fixed:.1f} s + {shared:.1f} s / N", "",
             "| nodes | projected words/s |", "|---|---|"]
    words = one.words_per_s * one.seconds
    for count in (1, 2, 4, 8, 16, 64):
        rows.append(f"| {count} | {words / (fixed + shared / count):.0f} |")
    return scaling >= 1.3


if __name__ == "__main__":
    raise SystemExit(main())
