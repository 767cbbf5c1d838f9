"""`SearchStore` over a published build folder: FAISS for dense, bm25s matrices for lexical, SQLite for rows."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer.formats.dates import filter_bounds
from indexer.index_dir import DATABASE, FAISS_FILE, IDS, LEXICAL, VECTORS, IndexCorruptError, resolve_build
from indexer.lexical import LexicalIndex, LexicalIndexError
from indexer.manifest import Manifest
from indexer.reader import PassageStore, StoredDocument, StoredPassage
from indexer.sentence_vectors import SentenceRows
from indexer.store import IdsOrLater, LexicalQuery, LexicalScores, PassageFilter
from indexer.vector_index import VectorSearcher, load_vector_index

FILTER_CACHE = 64


class LocalStore:
    """A published build opened for search: manifest, database, vectors, FAISS and lexical indexes."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.build_dir = resolve_build(index_dir)
        self._manifest = Manifest.read(self.build_dir)
        self.database = PassageStore(self.build_dir / DATABASE)
        passages = self._manifest.passages
        if self.database.passage_count != passages:
            raise IndexCorruptError(
                f"{self.build_dir / DATABASE} holds {self.database.passage_count} passages but the manifest says "
                f"{passages}: rebuild with `seedsearch build --full`."
            )
        self.vectors, self.ids = load_vectors(self.build_dir, dimension=self._manifest.dimension, count=passages)
        self.row_of = {int(i): row for row, i in enumerate(self.ids)}
        self.searcher = self._open_vector_index()
        self.sentences = SentenceRows.load(self.build_dir, self._manifest.dimension)
        try:
            self.lexical_index = LexicalIndex(self.build_dir / LEXICAL)
        except LexicalIndexError as err:
            raise IndexCorruptError(f"{err}: rebuild with `seedsearch build --full`.") from err
        if self.lexical_index.size != passages:
            raise IndexCorruptError(
                f"the lexical index of {self.build_dir} holds {self.lexical_index.size} passages but the manifest "
                f"says {passages}: rebuild with `seedsearch build --full`."
            )
        self._allowed = functools.lru_cache(maxsize=FILTER_CACHE)(self._allowed_ids)

    def _open_vector_index(self) -> VectorSearcher:
        try:
            return load_vector_index(self.build_dir / FAISS_FILE, self._manifest.vector_index, vectors=self.vectors)
        except (RuntimeError, OSError, ValueError) as err:
            raise IndexCorruptError(
                f"{self.build_dir / FAISS_FILE} cannot be read ({err}): rebuild with `seedsearch build --full`."
            ) from err

    @property
    def manifest(self) -> Manifest:
        return self._manifest

    # --- filters --------------------------------------------------------------------------------------

    def _allowed_ids(self, where: PassageFilter) -> tuple[int, ...]:
        dates = filter_bounds(where.since, where.until)
        found = self.database.filter_ids(where.doc_id, where.speaker, where.entity_ids, dates)
        return tuple(found or ())

    # --- dense ----------------------------------------------------------------------------------------

    def dense(self, vector: npt.NDArray[np.float32], limit: int, where: PassageFilter) -> dict[int, float]:
        if where.is_empty:
            scores, ids = self.searcher.search(vector[None, :].astype(np.float32), limit)
            return {int(i): float(s) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0}
        return self._exact(vector, self._allowed(where), limit)

    def dense_scores(self, vector: npt.NDArray[np.float32], passage_ids: Sequence[int]) -> dict[int, float]:
        return self._exact(vector, passage_ids)

    def sentence_scores(self, vector: npt.NDArray[np.float32], passage_ids: Sequence[int]) -> dict[int, float]:
        return self.sentences.best(vector, passage_ids) if self.sentences is not None else {}

    def _exact(
        self, vector: npt.NDArray[np.float32], passage_ids: Sequence[int], limit: int | None = None
    ) -> dict[int, float]:
        rows = sorted(self.row_of[i] for i in passage_ids if i in self.row_of)
        if not rows:
            return {}
        sims = np.asarray(self.vectors[rows], dtype=np.float32) @ vector
        ids = self.ids[rows]
        if limit is not None and len(sims) > limit:
            top = np.argpartition(-sims, limit - 1)[:limit]
            sims, ids = sims[top], ids[top]
        return {int(i): float(s) for i, s in zip(ids, sims, strict=True)}

    # --- lexical --------------------------------------------------------------------------------------

    def lexical(
        self, query: LexicalQuery, limit: int, where: PassageFilter, also: IdsOrLater = ()
    ) -> LexicalScores:
        allowed_rows = None
        if not where.is_empty:
            allowed_rows = np.zeros(self.lexical_index.size, dtype=bool)
            allowed_rows[self.lexical_index.rows_of(self._allowed(where))] = True
        hits = self.lexical_index.search(query.words, query.entity_names, limit, allowed_rows, also)
        return LexicalScores(hits.passages, hits.documents)

    # --- rows -----------------------------------------------------------------------------------------

    def passages(self, passage_ids: Sequence[int]) -> dict[int, StoredPassage]:
        return self.database.passages(passage_ids)

    def document(self, doc_id: str) -> StoredDocument | None:
        return self.database.document(doc_id)

    def context(self, passage_id: int, window: int) -> list[StoredPassage]:
        return self.database.context(passage_id, window)

    def answer_windows(self, passage_ids: Sequence[int], max_chars: int) -> dict[int, tuple[int, ...]]:
        return self.database.answer_windows(passage_ids, max_chars)

    def facets(self, limit: int = 200) -> dict[str, list[Any]]:
        return self.database.facets(limit)

    def knows_speaker(self, speaker: str) -> bool:
        return bool(self.database.filter_ids(None, speaker, []))

    def close(self) -> None:
        self.database.close()


def save_vectors(build_dir: Path, vectors: npt.NDArray[np.float32], ids: npt.NDArray[np.int64]) -> None:
    """Write a build's passage vectors and their ids (no pickle)."""
    np.save(build_dir / VECTORS, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    np.save(build_dir / IDS, np.ascontiguousarray(ids, dtype=np.int64), allow_pickle=False)


def load_vectors(
    build_dir: Path, *, dimension: int, count: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
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
