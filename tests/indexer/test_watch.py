"""`indexer.watch`: a folder's new, changed and deleted files reach the index after a quiet spell."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from indexer.database import document_hashes
from indexer.embedding import FakeEmbedder
from indexer.index_dir import DATABASE, IndexMissingError, resolve_build
from indexer.watch import watch

DEADLINE_S = 30.0


def documents(index_dir: Path) -> set[str]:
    try:
        return set(document_hashes(resolve_build(index_dir) / DATABASE))
    except IndexMissingError:
        return set()


def eventually(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Path, Path, list[int]]]:
    folder, index_dir = tmp_path / "notes", tmp_path / "notes" / "index"  # the index inside: its files ignored
    folder.mkdir()
    (folder / "first.txt").write_text("Swallows returned to the barn in April.", "utf-8")
    builds: list[int] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=watch,
        args=([folder], index_dir, FakeEmbedder(dimension=32)),
        kwargs={"stop": stop, "debounce_s": 0.3, "on_build": lambda report: builds.append(report.embedded_documents)},
        daemon=True,
    )
    thread.start()
    try:
        yield folder, index_dir, builds
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive()


def test_the_index_follows_the_folder(watched: tuple[Path, Path, list[int]]) -> None:
    folder, index_dir, builds = watched
    assert eventually(lambda: documents(index_dir) == {"first.txt"})
    for number in range(5):  # a burst of writes: one build after it, not five
        (folder / "second.txt").write_text(f"Swifts nested under the eaves, count {number}.", "utf-8")
    assert eventually(lambda: documents(index_dir) == {"first.txt", "second.txt"})
    (folder / "first.txt").unlink()
    assert eventually(lambda: documents(index_dir) == {"second.txt"})
    time.sleep(1.0)  # nothing more changed: no build is started for the index's own files
    assert len(builds) <= 4, builds
    assert builds[-1] == 0  # the deletion embedded nothing
