"""Reading a build's SQLite database: passages by id, documents, context, filters and facets.

A build never changes once published, so passages read once are kept in memory (see `PassageStore`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from indexer.attribution import Statement
from indexer.index_dir import IndexCorruptError
from indexer.passages import split_sentences


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
    page: int | None = None  # 1-based, for documents with pages (PDF)
    published: str | None = None  # the document's date, ISO 8601

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
    """A document as the API shows it."""

    doc_id: str
    title: str
    text: str
    metadata: dict[str, Any]
    source: str
    passages: int



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
        self._runs: dict[int, dict[int, tuple[int, ...]]] = {}  # max_chars -> passage id -> its run
        try:
            conn = self._conn()
            self.document_count = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            self.passage_count = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
            self.has_dates = "published_key" in _columns(conn, "documents")
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
            rows = self._conn().execute(f"{self._select} WHERE p.id IN ({marks})", chunk)
            for row in rows:
                found[row[0]] = cache[row[0]] = _passage(row)
        return found

    def doc_ids(self, ids: Sequence[int]) -> dict[int, str]:
        """passage id -> doc_id, without reading the passages' text."""
        found: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            chunk = [int(i) for i in ids[start : start + 500]]
            marks = ",".join("?" * len(chunk))
            found.update(self._conn().execute(f"SELECT id, doc_id FROM passages WHERE id IN ({marks})", chunk))
        return found

    @property
    def _select(self) -> str:
        """The columns of a `StoredPassage`; a database built before pages and dates were stored has neither."""
        extra = "p.page, d.published" if self.has_dates else "NULL, NULL"
        return (
            "SELECT p.id, p.doc_id, d.title, p.position, p.section, p.start_char, p.end_char, p.text,"
            f" p.entities, p.statements, {extra} FROM passages p JOIN documents d USING (doc_id)"
        )

    def filter_ids(
        self,
        doc_id: str | None,
        speaker: str | None,
        entity_ids: Sequence[str],
        published: tuple[str | None, str | None] = (None, None),
    ) -> list[int] | None:
        """Passage ids allowed by the filters, or None when no filter is set.

        `published` is a [low, high) range of `indexer.formats.dates.sort_key` values; documents without a date
        never pass a date filter (nor do any in a database built before dates were stored).
        """
        clauses: list[str] = []
        params: list[Any] = []
        low, high = published
        if low is not None or high is not None:
            if not self.has_dates:
                return []
            bounds = [("published_key >= ?", low), ("published_key < ?", high)]
            kept = [(sql, value) for sql, value in bounds if value is not None]
            clauses.append(
                "doc_id IN (SELECT doc_id FROM documents WHERE " + " AND ".join(sql for sql, _ in kept) + ")"
            )
            params.extend(value for _, value in kept)
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
        """One document with its passage count, or None."""
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
            f"{self._select} WHERE p.doc_id = ? AND p.position BETWEEN ? AND ? ORDER BY p.position",
            (row[0], row[1] - window, row[1] + window),
        )
        return [_passage(r) for r in rows]

    def answer_windows(self, ids: Sequence[int], max_chars: int) -> dict[int, tuple[int, ...]]:
        """For each passage, the run of passages of its document shown with it as one answer.

        Each document is cut, from its start, into runs of consecutive passages of one section and one page
        whose texts together, with a paragraph break (two characters) between them, hold at most `max_chars`; a
        passage longer than that is a run of its own. The runs depend only on the document, so two passages of
        one run always get the same answer; they are kept like passages, a build never changing.
        """
        runs = self._runs.setdefault(max_chars, {})
        missing = [pid for pid in map(int, ids) if pid not in runs]
        if missing:
            if len(runs) + len(missing) > self.CACHED_PASSAGES:
                runs.clear()
            page = "page" if self.has_dates else "NULL"
            marks = ",".join("?" * len(missing))
            rows = self._conn().execute(
                f"SELECT id, doc_id, section, {page}, length(text) FROM passages WHERE doc_id IN"
                f" (SELECT doc_id FROM passages WHERE id IN ({marks})) ORDER BY doc_id, position",
                missing,
            )
            run: list[int] = []
            used, key = 0, None
            for pid, doc_id, section, on_page, length in rows:
                if run and (key != (doc_id, section, on_page) or used + 2 + length > max_chars):
                    runs.update(dict.fromkeys(run, tuple(run)))
                    run = []
                used = used + 2 + length if run else length
                run.append(pid)
                key = (doc_id, section, on_page)
            runs.update(dict.fromkeys(run, tuple(run)))
        # get, not `in` then []: another thread may clear the cache in between
        return {pid: found for pid in map(int, ids) if (found := runs.get(pid)) is not None}

    def facets(self, limit: int = 200) -> dict[str, list[Any]]:
        """The most common documents, speakers and entities, for filter menus."""
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
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _passage(row: Sequence[Any]) -> StoredPassage:
    return StoredPassage(
        id=row[0], doc_id=row[1], title=row[2], position=row[3], section=row[4], start=row[5], end=row[6],
        text=row[7], entities=tuple(json.loads(row[8])), statements=tuple(json.loads(row[9])), page=row[10],
        published=row[11],
    )


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
