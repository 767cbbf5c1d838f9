"""Documents added to and removed from a published index one at a time, through the incremental build.

Where added documents live: in the index directory itself, as files under ``DIR/added/`` (an uploaded file as
it came, a JSON document as a one-line ``.jsonl`` file), and the ids removed from the build's sources in
``DIR/removed.json``. Every later build of the index, full ones included, reads ``added/`` besides its
``--source`` folders and leaves the removed ids out (`build_sources`, `removed_ids`), so a rebuild keeps what was
added while serving and does not bring back what was removed.

A change takes the build lock (changes and builds queue behind each other), copies the published build, embeds
only the changed document's passages, and publishes the new build atomically; servers then swap it in.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.database import document_hashes
from indexer.documents import Document, SkippedSource, iter_documents
from indexer.embedding import Embedder
from indexer.index_dir import (
    ADDED,
    BUILDS,
    DATABASE,
    REMOVED,
    IndexStoreError,
    build_lock,
    removed_ids,
)

_SAFE_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")
_PROCESS_LOCK = threading.Lock()  # threads of one server queue here before the (per-process) file lock

Log = Callable[[str], None] | None


class ChangeError(IndexStoreError):
    """A change cannot be made to this index (none published, or built by another model or version)."""


class UnknownDocumentError(KeyError):
    """The document to remove is not in the index."""


@dataclass(frozen=True)
class IndexedDocument:
    doc_id: str
    title: str
    passages: int


@dataclass(frozen=True)
class ChangeReport:
    """What a change did: documents indexed, ids removed, what was skipped and why, the build published."""

    indexed: list[IndexedDocument] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[SkippedSource] = field(default_factory=list)
    build: str | None = None
    seconds: float = 0.0


def add_files(
    index_dir: Path, files: Sequence[tuple[str, Path]], embedder: Embedder, *, wait_s: float = 60.0, log: Log = None
) -> ChangeReport:
    """Index these files (name to store it under, path of its bytes) into the published index.

    Each file is read as a build would read it; one that cannot be (a scanned PDF, a bad name) is skipped with
    the reason and the rest go on. A document with the id of an existing one replaces it.
    """
    started = time.perf_counter()
    with _PROCESS_LOCK, build_lock(index_dir, wait_s=wait_s):
        previous = _published(index_dir, embedder)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=_added_dir(index_dir)))
        try:
            staged = []
            for name, path in files:
                target = staging / _safe_name(name)
                shutil.copyfile(path, target)
                staged.append(target)
            documents, skipped = _load(staged)
            report = _publish_change(index_dir, previous, embedder, documents, set(), log, started)
            sources = {d.source for d in documents}
            for path in staged:
                if str(path) in sources or any(s.startswith(f"{path}:") for s in sources):
                    os.replace(path, _added_dir(index_dir) / path.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _forget_removed(index_dir, {d.doc_id for d in documents})
    return _report(index_dir, report, documents, skipped, started)


def add_record(
    index_dir: Path, record: Mapping[str, Any], embedder: Embedder, *, wait_s: float = 60.0, log: Log = None
) -> ChangeReport:
    """Index one JSON document (``id``, ``text``, optional ``title``, other fields as metadata)."""
    doc_id = str(record["id"])
    digest = hashlib.sha256(doc_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{_safe_name(doc_id)[:80]}-{digest}.jsonl"  # unique per id, readable
        path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
        return add_files(index_dir, [(path.name, path)], embedder, wait_s=wait_s, log=log)


def remove_documents(
    index_dir: Path, doc_ids: Sequence[str], embedder: Embedder, *, wait_s: float = 60.0, log: Log = None
) -> ChangeReport:
    """Remove documents from the published index, and from the sources of its later builds.

    Raises:
        UnknownDocumentError: One of the ids is not in the index; nothing is changed.
    """
    started = time.perf_counter()
    with _PROCESS_LOCK, build_lock(index_dir, wait_s=wait_s):
        previous = _published(index_dir, embedder)
        known = document_hashes(previous[0] / DATABASE)
        missing = [d for d in doc_ids if d not in known]
        if missing:
            raise UnknownDocumentError(missing[0])
        report = _publish_change(index_dir, previous, embedder, [], set(doc_ids), log, started)
        _drop_added_files(index_dir, set(doc_ids))
        _remember_removed(index_dir, set(doc_ids))
    return ChangeReport(removed=list(doc_ids), build=report, seconds=time.perf_counter() - started)


def _publish_change(
    index_dir: Path,
    previous: tuple[Path, Any],
    embedder: Embedder,
    documents: Sequence[Document],
    removed: set[str],
    log: Log,
    started: float,
) -> str | None:
    """Publish the previous build with `documents` added (or replaced) and `removed` ids left out."""
    from indexer.build import publish_build, sources_checksum

    if not documents and not removed:
        return None
    old_dir, manifest = previous
    replaced = {d.doc_id for d in documents} | removed
    # Unchanged documents are copied with the database: the build only compares their ids and hashes.
    kept = [Document(d, "", "", {}, "", h) for d, h in document_hashes(old_dir / DATABASE).items() if d not in replaced]
    everything = [*kept, *documents]
    _, build_dir = publish_build(
        index_dir, everything, previous, embedder, manifest.passage_settings,
        index_kind=manifest.vector_index.kind, checksum=sources_checksum(everything), skipped=manifest.skipped,
        sources=[Path(s) for s in manifest.extra.get("sources", [])], started=started,
        log=log or (lambda message: None),
    )
    return build_dir.name


def _published(index_dir: Path, embedder: Embedder) -> tuple[Path, Any]:
    """The published build, when a change can be applied to it."""
    from indexer.build import ANALYSIS_VERSION, _compatible_previous
    from indexer.manifest import FORMAT_VERSION, Manifest
    from indexer.store import resolve_build

    manifest = Manifest.read(resolve_build(index_dir))
    previous = _compatible_previous(index_dir, embedder, manifest.passage_settings, lambda message: None)
    if previous is None:
        raise ChangeError(
            f"{index_dir} was built with another model or settings ({manifest.model_id}) or cannot be updated: "
            f"rebuild it with `seedsearch build --index {index_dir}` using the server's model"
        )
    if manifest.analysis_version != ANALYSIS_VERSION or manifest.format_version != FORMAT_VERSION:
        raise ChangeError(
            f"{index_dir} was built by an older seedsearch: run `seedsearch build --index {index_dir}` once, then "
            "add or remove documents"
        )
    return previous


def _load(paths: Sequence[Path]) -> tuple[list[Document], list[SkippedSource]]:
    documents: list[Document] = []
    skipped: list[SkippedSource] = []
    for item in iter_documents(list(paths)):
        if isinstance(item, Document):
            documents.append(item)
        else:
            skipped.append(SkippedSource(Path(item.source.split(":", 1)[0]).name, item.reason))
    return documents, skipped


def _report(
    index_dir: Path, build: str | None, documents: Sequence[Document], skipped: list[SkippedSource], started: float
) -> ChangeReport:
    counts: dict[str, int] = {}
    if build is not None and documents:
        conn = sqlite3.connect(f"file:{index_dir / BUILDS / build / DATABASE}?mode=ro", uri=True)
        try:
            marks = ",".join("?" * len(documents))
            counts = dict(conn.execute(
                f"SELECT doc_id, count(*) FROM passages WHERE doc_id IN ({marks}) GROUP BY doc_id",
                [d.doc_id for d in documents],
            ))
        finally:
            conn.close()
    return ChangeReport(
        indexed=[IndexedDocument(d.doc_id, d.title, counts.get(d.doc_id, 0)) for d in documents],
        skipped=skipped,
        build=build,
        seconds=time.perf_counter() - started,
    )


def _added_dir(index_dir: Path) -> Path:
    folder = index_dir / ADDED
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _safe_name(name: str) -> str:
    """A file name that cannot leave the folder or hide: the last path part, odd characters replaced (a name
    with nothing usable left becomes ``file-<hash>`` with its suffix)."""
    base = _SAFE_NAME_RE.sub("_", Path(name.replace("\\", "/")).name).lstrip("._")
    if not base.strip("_"):
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        suffix = _SAFE_NAME_RE.sub("", Path(name).suffix)
        base = f"file-{digest}{suffix if len(suffix) > 1 else ''}"
    return base[:200]


def _drop_added_files(index_dir: Path, doc_ids: set[str]) -> None:
    """Delete the files under added/ that hold these documents (a .jsonl of one record holds its record's id)."""
    folder = index_dir / ADDED
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.name in doc_ids:
            path.unlink()
        elif path.suffix == ".jsonl" and _record_id(path) in doc_ids:
            path.unlink()


def _record_id(path: Path) -> str | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(record.get("id")) if isinstance(record, dict) else None


def _remember_removed(index_dir: Path, doc_ids: set[str]) -> None:
    _write_removed(index_dir, removed_ids(index_dir) | doc_ids)


def _forget_removed(index_dir: Path, doc_ids: set[str]) -> None:
    before = removed_ids(index_dir)
    if before & doc_ids:
        _write_removed(index_dir, before - doc_ids)


def _write_removed(index_dir: Path, doc_ids: set[str]) -> None:
    temporary = index_dir / f".{REMOVED}.tmp"
    temporary.write_text(json.dumps(sorted(doc_ids), ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, index_dir / REMOVED)
