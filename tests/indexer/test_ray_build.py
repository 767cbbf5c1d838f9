"""Builds whose passage stage runs on Ray (in-process cluster, two CPUs): the same index as a local build."""

from __future__ import annotations

import signal
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexer.build import build_index
from indexer.distributed import ClusterOptions, EncoderSpec, RayBuildError, RayPassages, ray_cluster
from indexer.distributed.cluster import gcs_endpoint
from indexer.embedding import FakeEmbedder
from indexer.index_dir import DATABASE, resolve_build
from indexer.local_store import load_vectors
from indexer.manifest import Manifest

ray = pytest.importorskip("ray", reason="the `ray` extra is not installed (make setup installs it)")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """An in-process Ray with two CPUs and a small object store, for the whole module."""
    ray.init(num_cpus=2, object_store_memory=100 * 2**20, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def ray_stage(embedder: FakeEmbedder, **kwargs: Any) -> RayPassages:
    return RayPassages(EncoderSpec.of(embedder, None, "cpu", None), **kwargs)


def snapshot(index_dir: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], np.ndarray, Manifest]:
    """Everything a build decides: documents, passages with their analysis, vectors by passage id, manifest."""
    build_dir = resolve_build(index_dir)
    manifest = Manifest.read(build_dir)
    conn = sqlite3.connect(build_dir / DATABASE)
    try:
        documents = conn.execute("SELECT doc_id, title, text, content_hash FROM documents ORDER BY doc_id").fetchall()
        passages = conn.execute(
            "SELECT id, doc_id, position, section, start_char, end_char, text, entities, statements FROM passages "
            "ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    vectors, ids = load_vectors(build_dir, dimension=manifest.dimension, count=manifest.passages)
    return documents, passages, np.asarray(vectors)[np.argsort(ids)], manifest


def add_stories(folder: Path) -> None:
    (folder / "cocoa.txt").write_text(
        "Cocoa harvest\n\nShowers continued throughout the week in the Bahia cocoa zone, the Bundesbank said.\n\n"
        "Arrivals of cocoa beans rose to 155,221 bags, exporters said.\n",
        encoding="utf-8",
    )
    (folder / "wheat.md").write_text(
        "# Wheat\n\nArgentina raised its wheat export forecast, the ministry said on Tuesday.\n\n"
        "## Prices\n\nPrices in Chicago fell two cents.\n",
        encoding="utf-8",
    )


def test_a_ray_build_writes_the_same_index_as_a_local_build(
    cluster: Any, tmp_path: Path, seed_copy: Path, fake_embedder: FakeEmbedder
) -> None:
    add_stories(seed_copy)
    local = build_index([seed_copy], tmp_path / "local", fake_embedder)
    distributed = build_index([seed_copy], tmp_path / "ray", fake_embedder, passages=ray_stage(fake_embedder))
    assert distributed.passages == local.passages > 3
    docs_a, passages_a, vectors_a, manifest_a = snapshot(tmp_path / "local")
    docs_b, passages_b, vectors_b, manifest_b = snapshot(tmp_path / "ray")
    assert docs_b == docs_a
    assert passages_b == passages_a
    assert any(p[7] != "[]" for p in passages_b), "analysis found no entity at all: the comparison proves little"
    np.testing.assert_allclose(vectors_b, vectors_a, atol=1e-6)
    assert manifest_b.vector_index == manifest_a.vector_index
    assert manifest_b.sources_checksum == manifest_a.sources_checksum


def test_a_ray_update_sends_only_new_and_changed_documents(
    cluster: Any, tmp_path: Path, seed_copy: Path, fake_embedder: FakeEmbedder
) -> None:
    add_stories(seed_copy)
    index = tmp_path / "ray"
    build_index([seed_copy], index, fake_embedder, passages=ray_stage(fake_embedder))
    cocoa = seed_copy / "cocoa.txt"
    cocoa.write_text(cocoa.read_text(encoding="utf-8") + "\nGhana's crop was smaller.\n", encoding="utf-8")
    (seed_copy / "wheat.md").unlink()
    (seed_copy / "rice.txt").write_text("Rice\n\nThailand sold more rice to Japan.\n", encoding="utf-8")
    report = build_index([seed_copy], index, fake_embedder, passages=ray_stage(fake_embedder))
    assert (report.embedded_documents, report.removed_documents) == (2, 1)
    assert report.reused_passages == 2, "the two unchanged cocoa paragraphs keep their vectors"
    assert report.embedded_passages == 2
    local = build_index([seed_copy], tmp_path / "local", fake_embedder, full=True)
    assert local.passages == report.passages
    _, passages_a, vectors_a, _ = snapshot(tmp_path / "local")
    _, passages_b, vectors_b, _ = snapshot(index)
    assert sorted(p[1:] for p in passages_b) == sorted(p[1:] for p in passages_a)
    by_text_a = {p[6]: v for p, v in zip(passages_a, vectors_a, strict=True)}
    for passage, vector in zip(passages_b, vectors_b, strict=True):
        np.testing.assert_allclose(vector, by_text_a[passage[6]], atol=1e-6)


def test_an_encoder_failing_on_the_cluster_is_one_line_and_keeps_the_index(
    cluster: Any, tmp_path: Path, seed_copy: Path, fake_embedder: FakeEmbedder
) -> None:
    index = tmp_path / "index"
    build_index([seed_copy], index, fake_embedder)
    before = resolve_build(index)
    add_stories(seed_copy)
    broken = RayPassages(EncoderSpec(str(tmp_path / "no-such-model"), "torch-fp32"))
    with pytest.raises(RayBuildError, match="distributed build failed.*nothing was published") as caught:
        build_index([seed_copy], index, fake_embedder, passages=broken)
    assert "\n" not in str(caught.value)
    assert resolve_build(index) == before
    assert not [p for p in (index / "builds").iterdir() if p.name.startswith(".tmp-")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_cluster_is_one_line_naming_the_time_out() -> None:
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(RayBuildError, match=rf"cannot reach the Ray cluster at {address} within 2 s") as caught:
        with ray_cluster(ClusterOptions(address, connect_timeout_s=2)):
            pass
    assert time.monotonic() - started < 30
    assert "\n" not in str(caught.value) and "ray start --head" in str(caught.value)


@pytest.mark.parametrize(
    ("address", "endpoint"),
    [
        ("local", None),
        ("auto", None),
        ("10.0.0.5:6380", ("10.0.0.5", 6380)),
        ("head.example", ("head.example", 6379)),
        ("ray://head.example", ("head.example", 10001)),
        ("ray://head.example:9999", ("head.example", 9999)),
        ("head:port", None),
    ],
)
def test_cluster_addresses(address: str, endpoint: tuple[str, int] | None) -> None:
    assert gcs_endpoint(address) == endpoint


def test_the_cli_says_when_the_cluster_is_unreachable(tmp_path: Path, seed_copy: Path) -> None:
    from typer.testing import CliRunner

    from seedsearch import cli

    address = f"127.0.0.1:{free_port()}"
    env = {"SEEDSEARCH_RAY_CONNECT_TIMEOUT_S": "1"}
    result = CliRunner().invoke(
        cli.app, ["build", "--source", str(seed_copy), "--index", str(tmp_path / "i"), "--ray", address], env=env
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: cannot reach the Ray cluster at {address} within 1 s (Connection refused); "
        "start it with `ray start --head` there, or check the address"
    )
    assert not (tmp_path / "i").exists()


@pytest.mark.parametrize("sigint", ["handled", "ignored"])  # ignored: under nohup or as a background job
def test_the_watchdog_interrupts_a_stalled_wait_and_stays_quiet_otherwise(sigint: str) -> None:
    from indexer.distributed.pipeline import Watchdog

    with Watchdog(60) as calm:
        calm.progress()
    assert not calm.fired
    previous = signal.signal(signal.SIGINT, signal.default_int_handler if sigint == "handled" else signal.SIG_IGN)
    try:
        with pytest.raises(KeyboardInterrupt), Watchdog(0.4) as stalled:
            for _ in range(600):  # the main thread waits in short steps, as Ray's iterator does
                time.sleep(0.05)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert stalled.fired
