"""The build's SQLite database: documents, passages, speakers and entities, written in bulk.

Text search is not here: the lexical index (`indexer.lexical`) is written beside this database from the same
rows (`lexical_rows`). SQLite keeps what it is good at: rows by id, filters and facets.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.formats.dates import sort_key
from indexer.index_dir import IndexCorruptError
from indexer.lexical import LexicalRow
from indexer.passages import Passage

SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    published TEXT,
    published_key TEXT
);
CREATE INDEX documents_by_date ON documents(published_key);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    position INTEGER NOT NULL,
    section TEXT,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    text TEXT NOT NULL,
    entities TEXT NOT NULL DEFAULT '[]',
    statements TEXT NOT NULL DEFAULT '[]',
    page INTEGER
);
CREATE INDEX passages_by_doc ON passages(doc_id, position);
CREATE TABLE passage_speakers (passage_id INTEGER NOT NULL, speaker TEXT NOT NULL COLLATE NOCASE);
CREATE INDEX speakers_by_name ON passage_speakers(speaker);
CREATE TABLE passage_entities (passage_id INTEGER NOT NULL, entity_id TEXT NOT NULL);
CREATE INDEX entities_by_id ON passage_entities(entity_id);
"""


@dataclass(frozen=True)
class PassageRow:
    """A passage as a build writes it: the split passage, its id and what analysis found in it."""

    id: int
    passage: Passage
    entities: Sequence[str] = ()
    entity_names: Sequence[str] = ()
    statements: Sequence[dict[str, Any]] = ()
    title: str = ""
    page: int | None = None


def create_database(path: Path) -> sqlite3.Connection:
    """A new, empty database tuned for one bulk write (durability comes from fsync at publish)."""
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY;")
    conn.executescript(SCHEMA)
    return conn


def open_for_update(path: Path) -> sqlite3.Connection:
    """A copied database opened for one bulk update."""
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY;")
    return conn


DocumentRow = tuple[str, str, str, dict[str, Any], str, str]


def insert_documents(conn: sqlite3.Connection, documents: Iterable[DocumentRow]) -> None:
    """Insert (doc_id, title, text, metadata, source, content_hash) tuples; `published` comes from the metadata."""
    conn.executemany(
        "INSERT INTO documents(doc_id, title, text, metadata, source, content_hash, published, published_key)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (d, t, x, json.dumps(m, ensure_ascii=False), s, h, *_published(m))
            for d, t, x, m, s, h in documents
        ),
    )


def _published(metadata: dict[str, Any]) -> tuple[str | None, str | None]:
    """The document's `published` date as stored in its metadata, and as a sortable UTC key."""
    value = metadata.get("published")
    if not isinstance(value, str):
        return None, None
    key = sort_key(value)
    return (value, key) if key else (None, None)



def insert_passages(conn: sqlite3.Connection, rows: Sequence[PassageRow]) -> None:
    """Insert passages with their statements, speakers and entities."""
    conn.executemany(
        "INSERT INTO passages(id, doc_id, position, section, start_char, end_char, text, entities, statements, page)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                r.id, r.passage.doc_id, r.passage.position, r.passage.section, r.passage.start, r.passage.end,
                r.passage.text,
                json.dumps(list(r.entities)), json.dumps(list(r.statements), ensure_ascii=False), r.page,
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
            conn.execute(f"DELETE FROM passage_speakers WHERE passage_id IN ({id_marks})", id_chunk)
            conn.execute(f"DELETE FROM passage_entities WHERE passage_id IN ({id_marks})", id_chunk)
        conn.execute(f"DELETE FROM passages WHERE doc_id IN ({marks})", chunk)
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


def lexical_rows(conn: sqlite3.Connection, entity_name: Callable[[str], str]) -> Iterator[LexicalRow]:
    """Every passage as the lexical index takes it: title, section and text; the names of its entities."""
    rows = conn.execute(
        "SELECT p.id, p.doc_id, d.title, p.section, p.text, p.entities FROM passages p JOIN documents d"
        " USING (doc_id) ORDER BY p.id"
    )
    for pid, doc_id, title, section, text, entities in rows:
        body = " ".join(part for part in (title, section or "", text) if part)
        names = " ".join(entity_name(e) for e in json.loads(entities))
        yield LexicalRow(int(pid), str(doc_id), body, names)


def lexical_documents(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(doc_id, title and text) of every document, in doc_id order."""
    rows = conn.execute("SELECT doc_id, title, text FROM documents ORDER BY doc_id")
    return [(str(doc_id), f"{title} {text}") for doc_id, title, text in rows]
