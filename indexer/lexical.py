"""The lexical engine: BM25 precomputed into sparse matrices (bm25s), so a query is a few posting-list sums.

SQLite FTS5 scored every passage holding any query word before it could take the top k (221 ms p50 on 110k
Reuters passages, 90% of a search). Here bm25s computes each (word, passage) BM25 contribution once, at build
time; a question sums the columns of its words with one `np.bincount` per field, so its cost is the length of
its words' posting lists, and the same pass yields the score of any passage by id (the dense candidates) and of
every document. Measured against Tantivy 0.27 (en_stem) on the same 110,163 Reuters passages
(`python -m benchmarks.bench_collection --compare-engines`, 2 shared cores at load ~8, 2026-12-01): top-100 query
p50 1.4 ms (bm25s) vs 1.0 ms (Tantivy), p99 22 vs 13 ms; build 49 s vs 10 s (ours includes Python tokenising);
29 vs 9 MiB. Both are far inside the latency targets; bm25s was chosen because one pass also yields the BM25 of
any passage by id and of every document (Tantivy needs a second, id-filtered query and a second index), the
scores are FTS5's exactly (tested against a brute-force BM25), and the stemmer is one Python can share with the
highlights, so a question is tokenised exactly as the index was.

Three fields, as FTS5 had them: passage body (title, section and text) with weight 1, the names of the entities
found in the passage ("extra") with weight `EXTRA_WEIGHT`, and whole documents (title and text). Scoring is
FTS5's: k1 1.2, b 0.75 and idf log((N - n + 0.5) / (n + 0.5)) floored at 1e-6 (see `_with_fts5_idf`), so
nothing was tuned.

On disk, inside the build folder (`lexical/`): `rows.npy` (passage id of each row, ascending), `doc_rows.npy`
(document row of each passage row) and, per field, `<field>.vocab.json` with `<field>.indptr.npy`,
`<field>.indices.npy`, `<field>.data.npy` (a CSC matrix: one column per stem). No pickle.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s  # type: ignore[import-untyped]  # bm25s ships no type information
import numpy as np
import numpy.typing as npt

from indexer.tokens import MAX_QUERY_TERMS, analyse, stem

#: Bump when tokenisation or scoring changes: the next build rewrites the lexical index, reusing everything else.
LEXICAL_VERSION = 1
K1 = 1.2
B = 0.75
EXTRA_WEIGHT = 0.5
FIELDS = ("body", "extra", "documents")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Bm25:
    """How term weights are computed at build time: BM25's k1 and b, and FTS5's or Lucene's idf."""

    k1: float = K1
    b: float = B
    idf: str = "fts5"


class LexicalIndexError(RuntimeError):
    """The lexical files of a build are missing or damaged."""


@dataclass(frozen=True)
class LexicalRow:
    """One passage as the lexical index sees it."""

    passage_id: int
    doc_id: str
    body: str
    extra: str


@dataclass(frozen=True)
class _Field:
    """One field's BM25 matrix: column `t` holds the rows containing stem `t` and their BM25 contributions."""

    vocab: dict[str, int]
    indptr: IntArray
    indices: npt.NDArray[np.int32]
    data: FloatArray
    rows: int

    def postings(self, stems: Iterable[str]) -> tuple[npt.NDArray[np.int32], FloatArray]:
        """Rows and BM25 contributions of the given stems' columns, one after another."""
        spans = [slice(self.indptr[c], self.indptr[c + 1]) for c in dict.fromkeys(self.vocab.get(s) for s in stems)
                 if c is not None]
        if len(spans) == 1:
            return self.indices[spans[0]], self.data[spans[0]]
        return (
            np.concatenate([self.indices[s] for s in spans]) if spans else self.indices[:0],
            np.concatenate([self.data[s] for s in spans]) if spans else self.data[:0],
        )

    def scores(self, stems: Iterable[str]) -> npt.NDArray[np.float64]:
        indices, data = self.postings(stems)
        return np.bincount(indices, weights=data, minlength=self.rows).astype(np.float64, copy=False)


@dataclass(frozen=True)
class LexicalHits:
    """What one lexical query found: passage scores (best first, then the asked ids) and their documents'."""

    passages: dict[int, float]
    documents: dict[int, float]


class LexicalIndex:
    """A build's lexical index, memory-mapped; answers one query per search."""

    def __init__(self, folder: Path) -> None:
        try:
            self.passage_ids: IntArray = np.load(folder / "rows.npy", allow_pickle=False)
            self.doc_rows: npt.NDArray[np.int32] = np.load(folder / "doc_rows.npy", allow_pickle=False)
            self.fields = {name: _load_field(folder, name) for name in FIELDS}
        except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError) as err:
            raise LexicalIndexError(f"the lexical index in {folder} cannot be read ({err})") from err
        rows = len(self.passage_ids)
        documents = self.fields["documents"].rows
        if (
            self.fields["body"].rows != rows
            or self.fields["extra"].rows != rows
            or self.doc_rows.shape != (rows,)
            or (rows and not 0 <= int(self.doc_rows.min()) <= int(self.doc_rows.max()) < documents)
        ):
            raise LexicalIndexError(f"the lexical index in {folder} has fields that do not match each other")

    @property
    def size(self) -> int:
        return len(self.passage_ids)

    def rows_of(self, passage_ids: Sequence[int]) -> IntArray:
        """Rows of the given passage ids; unknown ids are left out."""
        ids = np.asarray(passage_ids, dtype=np.int64)
        rows = np.searchsorted(self.passage_ids, ids)
        rows = np.minimum(rows, max(self.size - 1, 0))
        return rows[self.passage_ids[rows] == ids] if self.size else rows[:0]

    def search(
        self,
        terms: Sequence[str],
        entity_names: Sequence[str],
        limit: int,
        allowed_rows: npt.NDArray[np.bool_] | None = None,
        also: Sequence[int] | Callable[[], Sequence[int]] = (),
    ) -> LexicalHits:
        """The `limit` best passages for `terms` (query words, unstemmed) and the asked entities' names.

        `also` are passage ids whose scores are wanted whatever their rank (the dense candidates), so the
        caller never runs the query twice; a function giving them is called once the scores are summed (a hybrid
        search encodes its question meanwhile). Passages outside `allowed_rows` score nothing. Only passages sharing
        a word with the question are returned, as with FTS5.
        """
        stems = [stem(t) for t in dict.fromkeys(terms)][:MAX_QUERY_TERMS]
        named = [s for name in entity_names for s in analyse(name)]
        # one pass over both fields' postings: a second full-length array per field cost more than the sums
        body_rows, body_weights = self.fields["body"].postings(stems)
        extra_rows, extra_weights = self.fields["extra"].postings(stems + named)
        scores = np.bincount(
            np.concatenate([body_rows, extra_rows]),
            weights=np.concatenate([body_weights, EXTRA_WEIGHT * extra_weights]),
            minlength=self.size,
        ).astype(np.float64, copy=False)
        if allowed_rows is not None:
            scores[~allowed_rows] = 0.0
        matched = np.flatnonzero(scores > 0)
        if len(matched) > limit:
            matched = matched[np.argpartition(-scores[matched], limit - 1)[:limit]]
        rows = np.union1d(matched, self.rows_of(also() if callable(also) else also))
        rows = rows[scores[rows] > 0]
        if not len(rows):
            return LexicalHits({}, {})
        document_scores = self.fields["documents"].scores(stems)
        ids = self.passage_ids[rows].tolist()
        return LexicalHits(
            dict(zip(ids, scores[rows].tolist(), strict=True)),
            dict(zip(ids, document_scores[self.doc_rows[rows]].tolist(), strict=True)),
        )


def _load_field(folder: Path, name: str) -> _Field:
    vocab = json.loads((folder / f"{name}.vocab.json").read_text(encoding="utf-8"))
    rows = int(vocab.pop("\0rows"))
    field = _Field(
        vocab={str(k): int(v) for k, v in vocab.items()},
        indptr=np.load(folder / f"{name}.indptr.npy", allow_pickle=False),
        # plain views of the mapped files: slicing a np.memmap builds a memmap object per slice (~10 us each)
        indices=np.asarray(np.load(folder / f"{name}.indices.npy", mmap_mode="r", allow_pickle=False)),
        data=np.asarray(np.load(folder / f"{name}.data.npy", mmap_mode="r", allow_pickle=False)),
        rows=rows,
    )
    columns = len(field.indptr) - 1
    if (
        field.indptr.ndim != 1
        or columns < 0
        or int(field.indptr[-1]) != len(field.indices)
        or len(field.data) != len(field.indices)
        or any(not 0 <= column < columns for column in field.vocab.values())
        or (len(field.indices) and not 0 <= int(field.indices.min()) <= int(field.indices.max()) < rows)
    ):
        raise LexicalIndexError(f"the {name} field of the lexical index in {folder} is inconsistent")
    return field


def write_lexical_index(
    folder: Path, passages: Sequence[LexicalRow], documents: Sequence[tuple[str, str]], scoring: Bm25 = Bm25()
) -> None:
    """Index passages (sorted by id here) and documents ((doc_id, title and text)) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(passages, key=lambda p: p.passage_id)
    doc_row = {doc_id: row for row, (doc_id, _) in enumerate(documents)}
    missing = {p.doc_id for p in ordered} - doc_row.keys()
    if missing:
        raise LexicalIndexError(f"passages of unknown documents {sorted(missing)[:3]}: rebuild with --full")
    np.save(folder / "rows.npy", np.asarray([p.passage_id for p in ordered], dtype=np.int64), allow_pickle=False)
    np.save(folder / "doc_rows.npy", np.asarray([doc_row[p.doc_id] for p in ordered], dtype=np.int32),
            allow_pickle=False)
    _write_field(folder, "body", [analyse(p.body) for p in ordered], scoring)
    _write_field(folder, "extra", [analyse(p.extra) for p in ordered], scoring)
    _write_field(folder, "documents", [analyse(text) for _, text in documents], scoring)


def _with_fts5_idf(data: npt.NDArray[np.float64], indptr: IntArray, rows: int) -> FloatArray:
    """Swap bm25s's Lucene idf for FTS5's: log((N - n + 0.5) / (n + 0.5)) floored at 1e-6.

    Lucene's idf is always positive, so a word in most passages still adds; on the seed questions that let
    "Ukraine" outweigh "invade" (hit@1 0.963 -> 0.926). Robertson's own floor in bm25s is 0, which would make a
    word in half of a two-passage index find nothing. Every column stores one entry per row holding the word,
    so n is the column's length.
    """
    df = np.diff(indptr).astype(np.float64)
    lucene = np.log1p((rows - df + 0.5) / (df + 0.5))
    fts5 = np.maximum(np.log((rows - df + 0.5) / (df + 0.5)), 1e-6)
    factor = np.repeat(fts5 / lucene, np.diff(indptr))
    return (data * factor).astype(np.float32)


def _write_field(folder: Path, name: str, corpus: list[list[str]], scoring: Bm25) -> None:
    """BM25 contributions of every (stem, row) computed by bm25s, saved as a CSC matrix."""
    vocab: dict[str, Any]
    if any(corpus):
        model = bm25s.BM25(k1=scoring.k1, b=scoring.b, method="lucene")
        model.index(corpus, show_progress=False)
        # bm25s skips "" (added for empty rows, with no column behind it); no stem is ever ""
        vocab = {str(k): int(v) for k, v in model.vocab_dict.items() if k != ""}
        indptr = np.asarray(model.scores["indptr"], dtype=np.int64)
        indices = np.asarray(model.scores["indices"], dtype=np.int32)
        data = np.asarray(model.scores["data"], dtype=np.float32)
        if scoring.idf == "fts5":
            data = _with_fts5_idf(data.astype(np.float64), indptr, len(corpus))
    else:  # nothing to index in this field (no entities at all, say): an empty matrix
        vocab, indptr = {}, np.zeros(1, dtype=np.int64)
        indices, data = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    vocab["\0rows"] = len(corpus)
    (folder / f"{name}.vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    np.save(folder / f"{name}.indptr.npy", indptr, allow_pickle=False)
    np.save(folder / f"{name}.indices.npy", indices, allow_pickle=False)
    np.save(folder / f"{name}.data.npy", data, allow_pickle=False)
