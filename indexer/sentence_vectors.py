"""A vector for each sentence of a passage of several sentences, so a question can match the one sentence that
answers it rather than the passage's average.

A claim or a question usually matches one sentence ("X reduces Y in mice"); a passage's single vector averages
that sentence with its neighbours. At search time a dense candidate's score mixes its passage cosine with its
best sentence's (`search_api.fusion`); a passage of one sentence has no sentence vectors: its own vector is that
sentence's. The vectors are written into the build folder beside the passage vectors, as float16 (half the
disk and page cache; a cosine moves by ~1e-3), with the passage id each belongs to and the key of the text
embedded, so the next build re-embeds only sentences whose text changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from indexer.index_dir import IndexCorruptError
from indexer.sentences import split_sentences, strip_span
from indexer.stage import embedding_text, text_key

if TYPE_CHECKING:
    from indexer.embedding import Embedder

SENTENCE_VECTORS = "sentence_vectors.npy"
SENTENCE_OWNERS = "sentence_owners.npy"
SENTENCE_KEYS = "sentence_keys.npy"
#: Shorter fragments ("He said.", a dateline) say too little to be matched on their own.
MIN_SENTENCE_WORDS = 3
KEY_DTYPE = np.dtype("S16")


def passage_sentences(text: str) -> list[str]:
    """The sentences of a passage that get their own vector: none unless it has two or more of at least
    `MIN_SENTENCE_WORDS` words."""
    found = []
    for start, end in split_sentences(text):
        span = strip_span(text, start, end)
        if span is not None and len(text[span[0] : span[1]].split()) >= MIN_SENTENCE_WORDS:
            found.append(text[span[0] : span[1]])
    return found if len(found) >= 2 else []


@dataclass(frozen=True)
class SentenceRows:
    """What a build writes and search reads: float16 vectors, the passage id of each (ascending) and the key of
    its text."""

    vectors: npt.NDArray[np.float16]
    owners: npt.NDArray[np.int64]
    keys: npt.NDArray[np.bytes_]

    def save(self, build_dir: Path) -> None:
        np.save(build_dir / SENTENCE_VECTORS, self.vectors, allow_pickle=False)
        np.save(build_dir / SENTENCE_OWNERS, self.owners, allow_pickle=False)
        np.save(build_dir / SENTENCE_KEYS, self.keys, allow_pickle=False)

    @classmethod
    def empty(cls, dimension: int) -> SentenceRows:
        return cls(np.zeros((0, dimension), np.float16), np.zeros(0, np.int64), np.zeros(0, KEY_DTYPE))

    def without(self, passage_ids: Sequence[int]) -> SentenceRows:
        """These rows less those of the given passages (removed or redone by a build)."""
        keep = ~np.isin(self.owners, np.asarray(passage_ids, dtype=np.int64))
        return SentenceRows(np.asarray(self.vectors[keep]), self.owners[keep], np.asarray(self.keys[keep]))

    def then(self, later: SentenceRows) -> SentenceRows:
        """These rows followed by rows of passages with higher ids."""
        return SentenceRows(
            np.concatenate([self.vectors, later.vectors]),
            np.concatenate([self.owners, later.owners]),
            np.concatenate([self.keys, later.keys]),
        )

    def best(self, vector: npt.NDArray[np.float32], passage_ids: Sequence[int]) -> dict[int, float]:
        """passage id -> cosine of its best-matching sentence, for the given passages that have sentences (at
        search time: it reads only those passages' rows)."""
        if not len(passage_ids):
            return {}
        owners = self.owners
        wanted = np.asarray(sorted(passage_ids), dtype=np.int64)
        starts = np.searchsorted(owners, wanted, side="left")
        ends = np.searchsorted(owners, wanted, side="right")
        has = ends > starts
        wanted, starts, ends = wanted[has], starts[has], ends[has]
        if not wanted.size:
            return {}
        lengths = ends - starts
        # every candidate's run of rows, one after another: starts[i] .. ends[i] - 1
        rows = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
        sims = np.asarray(self.vectors[rows], dtype=np.float32) @ vector.astype(np.float32)
        best = np.maximum.reduceat(sims, np.cumsum(lengths) - lengths)
        return {int(p): float(s) for p, s in zip(wanted, best, strict=True)}

    @classmethod
    def load(cls, build_dir: Path, dimension: int) -> SentenceRows | None:
        """A build's sentence vectors (memory-mapped), or None for a build written before they existed."""
        if not (build_dir / SENTENCE_VECTORS).exists():
            return None
        try:
            vectors = np.load(build_dir / SENTENCE_VECTORS, mmap_mode="r", allow_pickle=False)
            owners = np.load(build_dir / SENTENCE_OWNERS, allow_pickle=False)
            keys = np.load(build_dir / SENTENCE_KEYS, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as err:
            raise IndexCorruptError(
                f"the sentence vectors of {build_dir} cannot be read ({err}): rebuild with `seedsearch build --full`."
            ) from err
        count = owners.shape[0]
        if vectors.shape != (count, dimension) or keys.shape != (count,) or np.any(np.diff(owners) < 0):
            raise IndexCorruptError(
                f"the sentence vectors of {build_dir} ({vectors.shape}, {count} owners, {keys.shape[0]} keys) do not "
                "agree: rebuild with `seedsearch build --full`."
            )
        return cls(vectors, owners, keys)


def build_sentence_rows(
    passages: Iterable[tuple[int, str, str, str]],
    embedder: Embedder,
    embed_title: bool,
    previous: SentenceRows | None,
    progress: bool = False,
) -> tuple[SentenceRows, int]:
    """Sentence vectors for `passages` (id, doc_id, title, text), ascending by id; a sentence whose embedding text
    the `previous` build already embedded keeps its vector. Returns the rows and how many were embedded."""
    owners: list[int] = []
    texts: list[str] = []
    for passage_id, doc_id, title, text in passages:
        for sentence in passage_sentences(text):
            owners.append(passage_id)
            texts.append(embedding_text(title, doc_id, sentence, embed_title))
    keys = np.asarray([text_key(t) for t in texts], dtype=KEY_DTYPE)
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float16)
    todo: list[int] = []
    if previous is None:
        todo = list(range(len(texts)))
    else:
        old_row = {bytes(k): row for row, k in enumerate(previous.keys)}
        for row, key in enumerate(keys):
            found = old_row.get(bytes(key))
            if found is None:
                todo.append(row)
            else:
                vectors[row] = previous.vectors[found]
    if todo:
        vectors[todo] = embedder.encode_passages([texts[i] for i in todo], progress=progress).astype(np.float16)
    return SentenceRows(vectors, np.asarray(owners, dtype=np.int64), keys), len(todo)
