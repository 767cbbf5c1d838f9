"""The index directory: builds published atomically, one build lock, and marks of the builds servers read.

Layout of an index directory `DIR`::

    DIR/current            symlink to the published build (swapped atomically with os.replace)
    DIR/builds/<build-id>/ one complete build:
        manifest.json      format, model, dimension, counts, settings, checksum of the sources
        passages.sqlite    documents, passages (text, offsets, entities, statements), filters and facets
        lexical/           the BM25 index of passages, their entity names and documents (`indexer.lexical`)
        vectors.npy        float32 passage vectors, row i belongs to ids.npy[i]
        ids.npy            int64 passage ids (SQLite rowids)
        vectors.faiss      the FAISS index over those vectors
    DIR/.lock              held (filelock) by the one build that may write DIR
    DIR/.lock.holder       "pid N" of that build, read by `is_building`
    DIR/.serving/<pid>     the build a running server serves, which pruning leaves alone

A build writes a new folder under `builds/` and switches `current` only when everything is on disk, so a half
built index is never visible and a killed build leaves the published one as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from filelock import FileLock, Timeout

MANIFEST = "manifest.json"
DATABASE = "passages.sqlite"
LEXICAL = "lexical"
VECTORS = "vectors.npy"
IDS = "ids.npy"
FAISS_FILE = "vectors.faiss"
CURRENT = "current"
BUILDS = "builds"
ADDED = "added"  # documents added while serving (indexer.changes); every build of the index reads them
REMOVED = "removed.json"  # ids removed while serving; every later build leaves them out
LOCK = ".lock"
LOCK_HOLDER = ".lock.holder"
SERVING = ".serving"
REQUIRED_FILES = (MANIFEST, DATABASE, LEXICAL, VECTORS, IDS, FAISS_FILE)

class IndexStoreError(RuntimeError):
    """Base of the errors about an index directory; the message says what to do."""


class IndexMissingError(IndexStoreError):
    """No published build in the index directory."""


class IndexCorruptError(IndexStoreError):
    """A build is incomplete, unreadable or does not match its manifest."""


class IndexMismatchError(IndexStoreError):
    """A build was made with another model or dimension than the one asked for."""


class BuildLockedError(IndexStoreError):
    """Another build holds the index directory."""


def resolve_build(index_dir: Path) -> Path:
    """The folder of the published build of `index_dir` (a plain build folder is accepted too)."""
    if (index_dir / MANIFEST).exists():
        return index_dir
    link = index_dir / CURRENT
    if link.is_symlink() or link.exists():
        target = link.resolve()
        if not target.is_dir():
            raise IndexCorruptError(
                f"{link} points to {target}, which does not exist: rebuild with `seedsearch build --index "
                f"{index_dir}`."
            )
        return target
    if not index_dir.exists():
        raise IndexMissingError(
            f"no index at {index_dir}: build one with `seedsearch build --source seeds/ --index {index_dir}`."
        )
    raise IndexMissingError(
        f"{index_dir} holds no published build: build one with `seedsearch build --index {index_dir}`."
    )


def current_build_id(index_dir: Path) -> str | None:
    """The name of the published build, cheap enough to poll; None when there is none."""
    try:
        return os.readlink(index_dir / CURRENT)
    except OSError:
        return "." if (index_dir / MANIFEST).exists() else None


def is_building(index_dir: Path) -> bool:
    """True while some process holds the build lock of `index_dir`.

    Reads the holder's pid that `build_lock` writes beside the lock instead of trying the lock: a probe that
    took the lock, even for a moment, could make a build starting at that moment fail as "locked".
    """
    pid = _read_holder(index_dir / LOCK_HOLDER).removeprefix("pid ").strip()
    return pid.isdigit() and _process_alive(int(pid))


@contextlib.contextmanager
def build_lock(index_dir: Path, *, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the exclusive build lock of `index_dir`, waiting up to `wait_s` seconds for another build."""
    index_dir.mkdir(parents=True, exist_ok=True)
    holder_file = index_dir / LOCK_HOLDER
    lock = FileLock(index_dir / LOCK, timeout=max(wait_s, 0.0), poll_interval=0.2)
    try:
        lock.acquire()
    except Timeout:
        holder = _read_holder(holder_file) or "another process"
        raise BuildLockedError(
            f"another build of {index_dir} is running ({holder}): wait for it to finish, "
            "or pass --wait SECONDS to queue behind it."
        ) from None
    try:
        holder_file.write_text(f"pid {os.getpid()}", encoding="utf-8")
        yield
    finally:
        with contextlib.suppress(OSError):
            holder_file.unlink()
        lock.release()


def _read_holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def new_build_dir(index_dir: Path) -> Path:
    """A fresh, empty folder for a build that is not visible to readers until `publish`."""
    builds = index_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(index_dir)
    now = time.time_ns()
    # microseconds in the stamp: build names sort in creation order, which pruning relies on
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 1_000_000_000)) + f"{now // 1000 % 1_000_000:06d}"
    path = builds / f".tmp-{stamp}-{os.getpid()}-{time.monotonic_ns() % 1_000_000}"
    path.mkdir()
    return path


def _fsync_tree(path: Path) -> None:
    for item in path.iterdir():
        if item.is_file():
            fd = os.open(item, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(index_dir: Path, build_dir: Path, *, keep: int = 2) -> Path:
    """Make `build_dir` the published build of `index_dir` in one atomic step; prune old builds."""
    missing = [name for name in REQUIRED_FILES if not (build_dir / name).exists()]
    if missing:
        raise IndexCorruptError(f"build {build_dir} is incomplete (missing {', '.join(missing)}); not published.")
    _fsync_tree(build_dir)
    final = build_dir.with_name(build_dir.name.removeprefix(".tmp-"))
    os.replace(build_dir, final)
    _fsync_dir(build_dir.parent)  # the rename must be on disk before a link can point to it
    link_tmp = index_dir / f".{CURRENT}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link_tmp.unlink()
    os.symlink(Path(BUILDS) / final.name, link_tmp)
    os.replace(link_tmp, index_dir / CURRENT)
    fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    prune_builds(index_dir, keep=keep)
    return final


def prune_builds(index_dir: Path, *, keep: int = 2) -> None:
    """Remove abandoned temporary builds and all but the newest `keep` published ones."""
    builds = index_dir / BUILDS
    if not builds.is_dir():
        return
    current = (index_dir / CURRENT).resolve() if (index_dir / CURRENT).exists() else None
    in_use = served_builds(index_dir)
    published = sorted((p for p in builds.iterdir() if not p.name.startswith(".tmp-")), key=lambda p: p.name)
    for stale in published[:-keep]:
        if stale != current and stale.name not in in_use:
            shutil.rmtree(stale, ignore_errors=True)
    _remove_abandoned(index_dir)


def mark_served(index_dir: Path, build_dir: Path) -> None:
    """Record that this process serves `build_dir`, so that builds never prune it from under the server.

    A server may serve an older build for a while (until it notices a new one, or for good when the new one
    is broken); without this mark a build publishing meanwhile could delete the files it still reads.
    """
    folder = index_dir / SERVING
    with contextlib.suppress(OSError):  # a read-only index directory: nothing prunes it either
        folder.mkdir(exist_ok=True)
        mark = folder / f"{os.getpid()}"
        tmp = folder / f".{os.getpid()}.tmp"
        tmp.write_text(build_dir.name, encoding="utf-8")
        os.replace(tmp, mark)


def unmark_served(index_dir: Path) -> None:
    """Remove this process's serving mark."""
    with contextlib.suppress(OSError):
        (index_dir / SERVING / f"{os.getpid()}").unlink()


def served_builds(index_dir: Path) -> set[str]:
    """Names of the builds that live servers have marked; marks of dead processes are removed."""
    names: set[str] = set()
    folder = index_dir / SERVING
    if not folder.is_dir():
        return names
    for mark in folder.iterdir():
        if not mark.name.isdigit():
            continue
        if not _process_alive(int(mark.name)):
            mark.unlink(missing_ok=True)
            continue
        with contextlib.suppress(OSError, UnicodeDecodeError):
            names.add(mark.read_text(encoding="utf-8").strip())
    return names


def _remove_abandoned(index_dir: Path) -> None:
    """Remove what killed builds left behind: `.tmp-*` build folders and `.current.*` links of dead processes."""
    leftovers = [*(index_dir / BUILDS).glob(".tmp-*"), *index_dir.glob(f".{CURRENT}.*")]
    for leftover in leftovers:
        if leftover.name.startswith(".tmp-"):  # .tmp-<stamp>-<pid>-<n>
            parts = leftover.name.split("-")
            pid = parts[2] if len(parts) >= 4 else ""
        else:  # .current.<pid>
            pid = leftover.name.rsplit(".", 1)[-1]
        if pid.isdigit() and _process_alive(int(pid)):
            continue
        if leftover.is_symlink() or leftover.is_file():
            leftover.unlink(missing_ok=True)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def build_sources(index_dir: Path, sources: Sequence[Path]) -> list[Path]:
    """The sources a build of `index_dir` reads: its added documents first (they win over a same id), then
    `sources`."""
    added = index_dir / ADDED
    return [added, *sources] if added.is_dir() and any(added.iterdir()) else list(sources)


def removed_ids(index_dir: Path) -> set[str]:
    """Ids removed from the index while it served, which later builds leave out."""
    try:
        value = json.loads((index_dir / REMOVED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {str(item) for item in value} if isinstance(value, list) else set()
