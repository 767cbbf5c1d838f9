"""Shared fixtures: a fake embedder for plumbing, the real bundled model (loaded once) for meaning."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from indexer.embedding import Embedder, FakeEmbedder  # noqa: E402
from tests.paths import SEEDS  # noqa: E402


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder(dimension=32)


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    from indexer.embedding import load_embedder

    return load_embedder()


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A writable copy of seeds/ to change documents in."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    for item in SEEDS.iterdir():
        (folder / item.name).write_text(item.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.fixture
def fake_index(tmp_path: Path, fake_embedder: FakeEmbedder, seed_copy: Path) -> Path:
    """The seed article plus two small documents, indexed with the fake embedder."""
    from indexer.build import build_index

    (seed_copy / "cocoa.txt").write_text(
        "Cocoa harvest\n\nShowers continued throughout the week in the Bahia cocoa zone.\n\n"
        "Arrivals of cocoa beans rose to 155,221 bags, exporters said.\n",
        encoding="utf-8",
    )
    (seed_copy / "script.md").write_text(
        "# Script test\n\nThis document contains <script>alert(1)</script> as plain text.\n", encoding="utf-8"
    )
    index_dir = tmp_path / "index"
    build_index([seed_copy], index_dir, fake_embedder)
    return index_dir


@pytest.fixture(scope="session")
def real_seed_index(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Iterator[Path]:
    """seeds/ indexed with the real bundled model, once for the session."""
    from indexer.build import build_index

    index_dir = tmp_path_factory.mktemp("real") / "index"
    build_index([SEEDS], index_dir, real_embedder)
    yield index_dir
