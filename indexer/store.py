"""The index directory: builds published atomically, a manifest that describes them, SQLite for text.

Layout of an index directory `DIR`::

    DIR/current            symlink to the published build (swapped atomically with os.replace)
    DIR/builds/<build-id>/ one complete build:
        manifest.json      format, model, dimension, counts, settings, checksum of the sources
        passages.sqlite    documents, passages (text, offsets, entities, statements) and an FTS5 index
        vectors.npy        float32 passage vectors, row i belongs to ids.npy[i]
        ids.npy            int64 passage ids (SQLite rowids)
        vectors.faiss      the FAISS index over those vectors
    DIR/.lock              held (flock) by the one build that may write DIR
    DIR/.serving/<pid>     the build a running server serves, which pruning leaves alone

A build writes a new folder under `builds/` and switches `current` only when everything is on disk, so a half
built index is never visible and a killed build leaves the published one as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from indexer.attribution import Statement
from indexer.passages import Passage, split_sentences

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
DATABASE = "passages.sqlite"
VECTORS = "vectors.npy"
IDS = "ids.npy"
FAISS_FILE = "vectors.faiss"
CURRENT = "current"
BUILDS = "builds"
LOCK = ".lock"
SERVING = ".serving"
REQUIRED_FILES = (MANIFEST, DATABASE, VECTORS, IDS, FAISS_FILE)

SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    position INTEGER NOT NULL,
    section TEXT,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    text TEXT NOT NULL,
    entities TEXT NOT NULL DEFAULT '[]',
    statements TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX passages_by_doc ON passages(doc_id, position);
CREATE TABLE passage_speakers (passage_id INTEGER NOT NULL, speaker TEXT NOT NULL COLLATE NOCASE);
CREATE INDEX speakers_by_name ON passage_speakers(speaker);
CREATE TABLE passage_entities (passage_id INTEGER NOT NULL, entity_id TEXT NOT NULL);
CREATE INDEX entities_by_id ON passage_entities(entity_id);
CREATE VIRTUAL TABLE passages_fts USING fts5(body, extra, tokenize='porter unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE documents_fts USING fts5(body, tokenize='porter unicode61 remove_diacritics 2');
"""


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


@dataclass(frozen=True)
class Manifest:
    """What a build is: enough to refuse loading it with the wrong model, and to rebuild it incrementally."""

    model_id: str
    dimension: int
    documents: int
    passages: int
    built_at: str
    sources_checksum: str
    passage_settings: dict[str, Any]
    vector_index: dict[str, Any]
    backend: str = ""
    normalized: bool = True
    metric: str = "inner_product"
    build_seconds: float = 0.0
    skipped: int = 0
    format_version: int = FORMAT_VERSION
    analysis_version: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def read(cls, build_dir: Path) -> Manifest:
        path = build_dir / MANIFEST
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise IndexCorruptError(f"{path} is missing: rebuild the index with `seedsearch build`.") from err
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise IndexCorruptError(f"{path} is not valid JSON ({err}): rebuild with `seedsearch build`.") from err
        if not isinstance(raw, dict):
            raise IndexCorruptError(f"{path} is not a manifest object: rebuild with `seedsearch build`.")
        version = raw.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexCorruptError(
                f"{path} has format version {version!r}, this seedsearch reads {FORMAT_VERSION}: "
                "rebuild with `seedsearch build --full`."
            )
        known = set(cls.__dataclass_fields__)
        try:
            manifest = cls(**{key: value for key, value in raw.items() if key in known})
        except TypeError as err:
            raise IndexCorruptError(f"{path} lacks fields ({err}): rebuild with `seedsearch build`.") from err
        if not isinstance(manifest.dimension, int) or manifest.dimension <= 0:
            raise IndexCorruptError(f"{path} has dimension {manifest.dimension!r}: rebuild with `seedsearch build`.")
        problem = _manifest_problem(manifest)
        if problem:
            raise IndexCorruptError(
                f"{path} was edited or damaged ({problem}): rebuild with `seedsearch build --full`."
            )
        return manifest

    def check_model(self, model_id: str, dimension: int) -> None:
        """Refuse a build made with another model, naming both."""
        if self.model_id != model_id or self.dimension != dimension:
            raise IndexMismatchError(
                f"the index was built with model {self.model_id!r} ({self.dimension} dimensions) but the "
                f"search uses {model_id!r} ({dimension} dimensions): rebuild with `seedsearch build --full "
                f"--model {model_id}` or search with `--model {self.model_id}`."
            )


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "model_id": str, "dimension": int, "documents": int, "passages": int, "built_at": str,
    "sources_checksum": str, "passage_settings": dict, "vector_index": dict, "backend": str, "normalized": bool,
    "metric": str, "build_seconds": (int, float), "skipped": int, "extra": dict, "analysis_version": int,
}
_VECTOR_INDEX_TYPES: dict[str, type] = {"kind": str, "factory": str, "count": int, "dimension": int}


def _manifest_problem(manifest: Manifest) -> str | None:
    """What is wrong with a manifest's fields, or None: a loaded index must never meet a wrong type later."""
    for name, expected in _FIELD_TYPES.items():
        value = getattr(manifest, name)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            return f"{name} is {value!r}"
    if manifest.documents < 0 or manifest.passages < 0:
        return f"negative counts {manifest.documents} documents, {manifest.passages} passages"
    info = manifest.vector_index
    for name, expected in _VECTOR_INDEX_TYPES.items():
        if not isinstance(info.get(name), expected) or isinstance(info.get(name), bool):
            return f"vector_index.{name} is {info.get(name)!r}"
    if info["count"] != manifest.passages or info["dimension"] != manifest.dimension:
        return (
            f"vector_index holds {info['count']} x {info['dimension']} but the manifest says "
            f"{manifest.passages} x {manifest.dimension}"
        )
    params = info.get("search_params", {})
    if not isinstance(params, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in params.items()
    ):
        return f"vector_index.search_params is {params!r}"
    return None


# --- the index directory -------------------------------------------------------------------------------


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

    Reads the holder's pid that `build_lock` writes into the lock file instead of trying the lock: a probe
    that took the lock, even for a moment, could make a build starting at that moment fail as "locked".
    """
    try:
        holder = (index_dir / LOCK).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return False
    pid = holder.removeprefix("pid ").strip()
    return pid.isdigit() and _process_alive(int(pid))


@contextlib.contextmanager
def build_lock(index_dir: Path, *, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the exclusive build lock of `index_dir`, waiting up to `wait_s` seconds for another build."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / LOCK, "a+")  # noqa: SIM115 - held for the whole build
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise BuildLockedError(
                        f"another build of {index_dir} is running ({holder}): wait for it to finish, "
                        "or pass --wait SECONDS to queue behind it."
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            handle.truncate(0)
        handle.close()


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


# --- the SQLite database --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredPassage:
    """A passage as the search reads it back."""

    id: int
    doc_id: str
    title: str
    position: int
    section: str | None
    start: int
    end: int
    text: str
    entities: tuple[str, ...]
    statements: tuple[dict[str, Any], ...]

    # Derived once per passage and kept with it in the store's cache: every search that meets the passage again
    # would otherwise parse them again.
    @cached_property
    def parsed_statements(self) -> tuple[Statement, ...]:
        return tuple(Statement.from_dict(s) for s in self.statements)

    @cached_property
    def sentence_spans(self) -> tuple[tuple[int, int], ...]:
        """Sentences as offsets within `text`."""
        return tuple(split_sentences(self.text))


@dataclass(frozen=True)
class StoredDocument:
    doc_id: str
    title: str
    text: str
    metadata: dict[str, Any]
    source: str
    passages: int


@dataclass(frozen=True)
class PassageRow:
    """A passage as a build writes it: the split passage, its id and what analysis found in it."""

    id: int
    passage: Passage
    entities: Sequence[str] = ()
    entity_names: Sequence[str] = ()
    statements: Sequence[dict[str, Any]] = ()
    title: str = ""


def create_database(path: Path) -> sqlite3.Connection:
    """A new, empty database tuned for one bulk write (durability comes from fsync at publish)."""
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY;")
    conn.executescript(SCHEMA)
    return conn


def open_for_update(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY;")
    return conn


DocumentRow = tuple[str, str, str, dict[str, Any], str, str]


def insert_documents(conn: sqlite3.Connection, documents: Iterable[DocumentRow]) -> None:
    """Insert (doc_id, title, text, metadata, source, content_hash) tuples."""
    conn.executemany(
        "INSERT INTO documents(doc_id, title, text, metadata, source, content_hash) VALUES (?, ?, ?, ?, ?, ?)",
        ((d, t, x, json.dumps(m, ensure_ascii=False), s, h) for d, t, x, m, s, h in documents),
    )


def index_new_documents(conn: sqlite3.Connection) -> None:
    """Add every document not yet in the document-level FTS index (keyed by the documents' rowid)."""
    conn.execute(
        "INSERT INTO documents_fts(rowid, body) SELECT d.rowid, d.title || ' ' || d.text FROM documents d"
        " WHERE d.rowid > coalesce((SELECT max(rowid) FROM documents_fts), 0)"
    )


def insert_passages(conn: sqlite3.Connection, rows: Sequence[PassageRow]) -> None:
    conn.executemany(
        "INSERT INTO passages(id, doc_id, position, section, start_char, end_char, text, entities, statements)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                r.id, r.passage.doc_id, r.passage.position, r.passage.section, r.passage.start, r.passage.end,
                r.passage.text,
                json.dumps(list(r.entities)), json.dumps(list(r.statements), ensure_ascii=False),
            )
            for r in rows
        ),
    )
    conn.executemany(
        "INSERT INTO passages_fts(rowid, body, extra) VALUES (?, ?, ?)",
        (
            (
                r.id,
                " ".join(part for part in (r.title, r.passage.section or "", r.passage.text) if part),
                " ".join(r.entity_names),
            )
            for r in rows
        ),
    )
    conn.executemany(
        "INSERT INTO passage_speakers(passage_id, speaker) VALUES (?, ?)",
        ((r.id, s["speaker"]) for r in rows for s in r.statements if s.get("speaker")),
    )
    conn.executemany(
        "INSERT INTO passage_entities(passage_id, entity_id) VALUES (?, ?)",
        ((r.id, e) for r in rows for e in dict.fromkeys(r.entities)),
    )


def delete_documents(conn: sqlite3.Connection, doc_ids: Sequence[str]) -> list[int]:
    """Remove documents and everything derived from them; returns the removed passage ids."""
    removed: list[int] = []
    for start in range(0, len(doc_ids), 500):
        chunk = list(doc_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        ids = [row[0] for row in conn.execute(f"SELECT id FROM passages WHERE doc_id IN ({marks})", chunk)]
        removed.extend(ids)
        for id_start in range(0, len(ids), 500):
            id_chunk = ids[id_start : id_start + 500]
            id_marks = ",".join("?" * len(id_chunk))
            conn.execute(f"DELETE FROM passages_fts WHERE rowid IN ({id_marks})", id_chunk)
            conn.execute(f"DELETE FROM passage_speakers WHERE passage_id IN ({id_marks})", id_chunk)
            conn.execute(f"DELETE FROM passage_entities WHERE passage_id IN ({id_marks})", id_chunk)
        conn.execute(f"DELETE FROM passages WHERE doc_id IN ({marks})", chunk)
        conn.execute(
            f"DELETE FROM documents_fts WHERE rowid IN (SELECT rowid FROM documents WHERE doc_id IN ({marks}))", chunk
        )
        conn.execute(f"DELETE FROM documents WHERE doc_id IN ({marks})", chunk)
    return removed


def document_hashes(path: Path) -> dict[str, str]:
    """doc_id -> content hash of every document in a build's database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return dict(conn.execute("SELECT doc_id, content_hash FROM documents"))
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise IndexCorruptError(
            f"{path} is not a readable seedsearch database ({err}): rebuild with `seedsearch build --full`."
        ) from err


class PassageStore:
    """Read-only access to a build's database, one connection per thread.

    A build never changes once published, so passages read once are kept (up to `CACHED_PASSAGES`): the
    candidates of consecutive questions overlap a lot, and decoding their JSON columns costs more than the query.
    """

    CACHED_PASSAGES = 20_000

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._cache: dict[int, StoredPassage] = {}
        try:
            conn = self._conn()
            conn.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'x'").fetchone()
            self.document_count = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            self.passage_count = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        except sqlite3.Error as err:
            raise IndexCorruptError(
                f"{path} is not a readable seedsearch database ({err}): rebuild with `seedsearch build --full`."
            ) from err

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
        return conn

    def passages(self, ids: Sequence[int]) -> dict[int, StoredPassage]:
        """The passages with these ids (unknown ids are left out)."""
        cache = self._cache
        found: dict[int, StoredPassage] = {}
        missing: list[int] = []
        for pid in map(int, ids):
            passage = cache.get(pid)
            if passage is None:
                missing.append(pid)
            else:
                found[pid] = passage
        if len(cache) + len(missing) > self.CACHED_PASSAGES:
            cache.clear()
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn().execute(
                "SELECT p.id, p.doc_id, d.title, p.position, p.section, p.start_char, p.end_char, p.text,"
                f" p.entities, p.statements FROM passages p JOIN documents d USING (doc_id) WHERE p.id IN ({marks})",
                chunk,
            )
            for row in rows:
                found[row[0]] = cache[row[0]] = _passage(row)
        return found

    def lexical(self, match: str, limit: int, within: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """(passage id, BM25 score, higher is better) for an FTS5 MATCH expression."""
        if not match:
            return []
        sql = "SELECT rowid, -bm25(passages_fts, 1.0, 0.5) FROM passages_fts WHERE passages_fts MATCH ?"
        params: list[Any] = [match]
        if within is not None:
            if not within:
                return []
            sql += f" AND rowid IN ({','.join(str(int(i)) for i in within)})"
        sql += " ORDER BY bm25(passages_fts, 1.0, 0.5) LIMIT ?"
        params.append(limit)
        try:
            return [(int(r[0]), float(r[1])) for r in self._conn().execute(sql, params)]
        except sqlite3.OperationalError:
            return []

    def document_lexical(self, match: str, limit: int) -> dict[str, float]:
        """doc_id -> BM25 score of whole documents (title and text) for an FTS5 MATCH expression."""
        if not match:
            return {}
        sql = (
            "SELECT d.doc_id, -bm25(documents_fts) FROM documents_fts JOIN documents d ON d.rowid = documents_fts.rowid"
            " WHERE documents_fts MATCH ? ORDER BY bm25(documents_fts) LIMIT ?"
        )
        try:
            return {str(r[0]): float(r[1]) for r in self._conn().execute(sql, (match, limit))}
        except sqlite3.OperationalError:
            return {}

    def doc_ids(self, ids: Sequence[int]) -> dict[int, str]:
        """passage id -> doc_id, without reading the passages' text."""
        found: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            chunk = [int(i) for i in ids[start : start + 500]]
            marks = ",".join("?" * len(chunk))
            found.update(self._conn().execute(f"SELECT id, doc_id FROM passages WHERE id IN ({marks})", chunk))
        return found

    def filter_ids(self, doc_id: str | None, speaker: str | None, entity_ids: Sequence[str]) -> list[int] | None:
        """Passage ids allowed by the filters, or None when no filter is set."""
        clauses: list[str] = []
        params: list[Any] = []
        if doc_id is not None:
            clauses.append("id IN (SELECT id FROM passages WHERE doc_id = ?)")
            params.append(doc_id)
        if speaker is not None:
            clauses.append("id IN (SELECT passage_id FROM passage_speakers WHERE speaker = ?)")
            params.append(speaker)
        if entity_ids:
            marks = ",".join("?" * len(entity_ids))
            clauses.append(f"id IN (SELECT passage_id FROM passage_entities WHERE entity_id IN ({marks}))")
            params.extend(entity_ids)
        if not clauses:
            return None
        sql = "SELECT id FROM passages WHERE " + " AND ".join(clauses)
        return [row[0] for row in self._conn().execute(sql, params)]

    def document(self, doc_id: str) -> StoredDocument | None:
        row = self._conn().execute(
            "SELECT d.doc_id, d.title, d.text, d.metadata, d.source,"
            " (SELECT count(*) FROM passages p WHERE p.doc_id = d.doc_id) FROM documents d WHERE d.doc_id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            return None
        return StoredDocument(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5])

    def context(self, passage_id: int, window: int) -> list[StoredPassage]:
        """The passage and up to `window` neighbours on each side in its document, in order."""
        row = self._conn().execute("SELECT doc_id, position FROM passages WHERE id = ?", (passage_id,)).fetchone()
        if row is None:
            return []
        rows = self._conn().execute(
            "SELECT p.id, p.doc_id, d.title, p.position, p.section, p.start_char, p.end_char, p.text,"
            " p.entities, p.statements FROM passages p JOIN documents d USING (doc_id)"
            " WHERE p.doc_id = ? AND p.position BETWEEN ? AND ? ORDER BY p.position",
            (row[0], row[1] - window, row[1] + window),
        )
        return [_passage(r) for r in rows]

    def facets(self, limit: int = 200) -> dict[str, list[Any]]:
        conn = self._conn()
        documents = [
            {"doc_id": d, "title": t}
            for d, t in conn.execute("SELECT doc_id, title FROM documents ORDER BY doc_id LIMIT ?", (limit,))
        ]
        speakers = [
            s for (s,) in conn.execute(
                "SELECT speaker FROM passage_speakers GROUP BY speaker COLLATE NOCASE"
                " ORDER BY count(*) DESC, speaker LIMIT ?", (limit,),
            )
        ]
        entities = [
            e for (e,) in conn.execute(
                "SELECT entity_id FROM passage_entities GROUP BY entity_id ORDER BY count(*) DESC, entity_id LIMIT ?",
                (limit,),
            )
        ]
        return {"documents": documents, "speakers": speakers, "entities": entities}

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _passage(row: Sequence[Any]) -> StoredPassage:
    return StoredPassage(
        id=row[0], doc_id=row[1], title=row[2], position=row[3], section=row[4], start=row[5], end=row[6],
        text=row[7], entities=tuple(json.loads(row[8])), statements=tuple(json.loads(row[9])),
    )


def save_vectors(build_dir: Path, vectors: np.ndarray, ids: np.ndarray) -> None:
    np.save(build_dir / VECTORS, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    np.save(build_dir / IDS, np.ascontiguousarray(ids, dtype=np.int64), allow_pickle=False)


def load_vectors(build_dir: Path, *, dimension: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Memory-mapped passage vectors and their ids, checked against the manifest."""
    try:
        vectors = np.load(build_dir / VECTORS, mmap_mode="r", allow_pickle=False)
        ids = np.load(build_dir / IDS, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise IndexCorruptError(
            f"the vectors of {build_dir} cannot be read ({err}): rebuild with `seedsearch build --full`."
        ) from err
    if vectors.ndim != 2 or vectors.shape != (count, dimension) or ids.shape != (count,):
        raise IndexCorruptError(
            f"the vectors of {build_dir} have shape {vectors.shape} and {ids.shape} ids, but the manifest says "
            f"{count} x {dimension}: rebuild with `seedsearch build --full`."
        )
    return vectors, ids
