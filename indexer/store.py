"""The interface search reads an index through, so the engine never knows how or where the index is stored.

`SearchStore` is what `search_api` depends on: dense candidates, lexical candidates (one query per search,
with the scores of given ids), passages by id, documents, context and facets, with filters applied inside the
store. `indexer.local_store.LocalStore` implements it over a build folder (FAISS + SQLite + the lexical
index); a networked store would implement the same methods over the wire without the engine changing.

The names other modules imported from here before the store was split are re-exported below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from indexer.database import PassageRow, document_hashes
from indexer.index_dir import (
    BUILDS,
    CURRENT,
    DATABASE,
    FAISS_FILE,
    LEXICAL,
    MANIFEST,
    BuildLockedError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    IndexStoreError,
    build_lock,
    current_build_id,
    is_building,
    mark_served,
    new_build_dir,
    prune_builds,
    publish,
    resolve_build,
    served_builds,
    unmark_served,
)
from indexer.manifest import FORMAT_VERSION, Manifest
from indexer.reader import StoredDocument, StoredPassage

__all__ = [
    "BUILDS", "CURRENT", "DATABASE", "FAISS_FILE", "FORMAT_VERSION", "LEXICAL", "MANIFEST", "BuildLockedError",
    "IndexCorruptError", "IndexMismatchError", "IndexMissingError", "IndexStoreError", "LexicalQuery",
    "LexicalScores", "Manifest", "PassageFilter", "PassageRow", "SearchStore", "StoredDocument", "StoredPassage",
    "build_lock", "current_build_id", "document_hashes", "is_building", "mark_served", "new_build_dir",
    "prune_builds", "publish", "resolve_build", "served_builds", "unmark_served",
]


@dataclass(frozen=True)
class PassageFilter:
    """Which passages a search may return; every set field must hold. Entities are resolved ids."""

    doc_id: str | None = None
    speaker: str | None = None
    entity_ids: tuple[str, ...] = ()
    since: str | None = None  # ISO 8601 date or date-time: documents published then or later
    until: str | None = None  # ISO 8601: published then or earlier (a date includes its whole day)

    @property
    def is_empty(self) -> bool:
        return (
            self.doc_id is None and self.speaker is None and not self.entity_ids
            and self.since is None and self.until is None
        )


@dataclass(frozen=True)
class LexicalQuery:
    """A question as the lexical side takes it: its words as written, and the names of the entities it asks.

    The store tokenises both exactly as it tokenised the indexed text.
    """

    words: tuple[str, ...]
    entity_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class LexicalScores:
    """BM25 of the passages found (and of those asked by id), and of each such passage's whole document."""

    passages: dict[int, float]
    documents: dict[int, float]


#: Passage ids, or a function giving them that the store calls once, after scoring the query: a hybrid search
#: passes its dense candidates this way, so the lexical query runs while the question is still being encoded.
IdsOrLater = Sequence[int] | Callable[[], Sequence[int]]


class SearchStore(Protocol):
    """What the search engine reads an index through."""

    @property
    def manifest(self) -> Manifest:
        """The build being served: model, counts, vector index."""
        ...

    def dense(self, vector: npt.NDArray[np.float32], limit: int, where: PassageFilter) -> dict[int, float]:
        """passage id -> cosine of the `limit` passages nearest to `vector` that pass `where`."""
        ...

    def dense_scores(self, vector: npt.NDArray[np.float32], passage_ids: Sequence[int]) -> dict[int, float]:
        """passage id -> cosine with `vector` for the given passages (unknown ids are left out)."""
        ...

    def sentence_scores(self, vector: npt.NDArray[np.float32], passage_ids: Sequence[int]) -> dict[int, float]:
        """passage id -> cosine of its best-matching sentence, for the given passages that have sentence vectors
        (passages of several sentences; none in a build made before them)."""
        ...

    def lexical(
        self, query: LexicalQuery, limit: int, where: PassageFilter, also: IdsOrLater = ()
    ) -> LexicalScores:
        """One BM25 query: the `limit` best passages passing `where`, plus the scores of the `also` ids."""
        ...

    def passages(self, passage_ids: Sequence[int]) -> dict[int, StoredPassage]:
        """The passages with these ids (unknown ids are left out)."""
        ...

    def document(self, doc_id: str) -> StoredDocument | None:
        """One document, or None."""
        ...

    def context(self, passage_id: int, window: int) -> list[StoredPassage]:
        """The passage and up to `window` neighbours on each side in its document, in order."""
        ...

    def answer_windows(self, passage_ids: Sequence[int], max_chars: int) -> dict[int, tuple[int, ...]]:
        """passage id -> the ids, in order, of the run of its document's passages shown with it as one answer:
        consecutive passages of one section and page holding at most `max_chars` together (see
        `PassageStore.answer_windows`)."""
        ...

    def facets(self, limit: int = 200) -> dict[str, list[Any]]:
        """The most common documents, speakers and entities, for filter menus."""
        ...

    def knows_speaker(self, speaker: str) -> bool:
        """Whether any passage quotes this speaker (the speaker filter's values)."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...
