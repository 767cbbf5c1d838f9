"""The passage stage of a build, as a seam: in this process (`indexer.build`) or on a cluster (`indexer.distributed`).

The stage turns documents into analysed passages and their vectors; the build around it (incremental reuse, the
database, the vector and lexical indexes, the atomic publish) is the same whichever runs it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from indexer.database import PassageRow
    from indexer.documents import Document
    from indexer.embedding import Embedder
    from indexer.entities import EntityResolver


TITLE_WORDS = 32


def text_key(text: str) -> bytes:
    """The key under which a vector is reused: a hash of the exact text embedded."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def embedding_text(title: str, doc_id: str, text: str, embed_title: bool) -> str:
    """Passage text with its document title in front when the title is a real one, not a file name."""
    title = " ".join(title.split()[:TITLE_WORDS])
    if not embed_title or not title or title == Path(doc_id).stem:
        return text
    return f"{title}: {text}"


def reusable_vectors(
    database: Path, old_ids: np.ndarray, doc_ids: Sequence[str], embed_title: bool
) -> dict[bytes, int]:
    """Embedding-text key -> row in the previous build's vectors, for the passages of documents being redone.

    A document edited in one paragraph, or re-analysed by a newer seedsearch, keeps the vectors of every passage
    whose embedding text is unchanged: only new text is embedded.
    """
    if not doc_ids:
        return {}
    row_of = {int(i): row for row, i in enumerate(old_ids)}
    reusable: dict[bytes, int] = {}
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        for start in range(0, len(doc_ids), 500):
            chunk = list(doc_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                "SELECT p.id, d.doc_id, d.title, p.text FROM passages p JOIN documents d USING (doc_id)"
                f" WHERE d.doc_id IN ({marks})",
                chunk,
            )
            for pid, doc_id, title, text in rows:
                if int(pid) in row_of:
                    reusable[text_key(embedding_text(title, doc_id, text, embed_title))] = row_of[int(pid)]
    finally:
        conn.close()
    return reusable


@dataclass(frozen=True)
class ReusableVectors:
    """Vectors of the previous build by `text_key` of their embedding text, for passages whose text is unchanged."""

    rows: dict[bytes, int]
    vectors: npt.NDArray[np.float32]


@dataclass(frozen=True)
class StageInput:
    """What a passage stage works on: the documents to split, analyse and embed, and how."""

    documents: Sequence[Document]
    embedder: Embedder
    settings: dict[str, Any]
    first_id: int
    resolver: EntityResolver
    reuse: ReusableVectors
    progress: bool
    timings: dict[str, float]  # the stage adds its own stage times


class PassageStage(Protocol):
    """Documents -> analysed passages (ids from `first_id`, in document order) and one float32 vector each.

    Returns the rows, their vectors, and how many of the vectors were copied from `reuse`.
    """

    def __call__(self, job: StageInput) -> tuple[list[PassageRow], npt.NDArray[np.float32], int]: ...
