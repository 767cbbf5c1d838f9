"""Search over a published build: dense + lexical candidates, fusion, who-said-what boosts, highlights.

`SearchEngine.search_batch` is the one code path; the API, the CLI and `seedsearch eval` all call it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer.embedding import Embedder
from indexer.entities import EntityResolver
from indexer.store import (
    DATABASE,
    FAISS_FILE,
    IndexCorruptError,
    Manifest,
    PassageStore,
    StoredPassage,
    load_vectors,
    resolve_build,
)
from indexer.vector_index import VectorIndexInfo, VectorSearcher, load_vector_index
from search_api.boosts import StatementReason, boost_statements
from search_api.fusion import Candidates, Mode, SearchOptions, fuse
from search_api.highlights import best_sentence
from search_api.question import QuestionIntent, parse_question

_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
    off on once only or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves s t don shall may
    might must""".split()
)


@dataclass(frozen=True)
class SearchFilters:
    doc_id: str | None = None
    speaker: str | None = None
    entity: str | None = None


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    passage: StoredPassage
    highlights: tuple[tuple[int, int], ...]
    reason: StatementReason | None = None


@dataclass(frozen=True)
class SearchResult:
    query: str
    mode: Mode
    took_ms: float
    hits: list[Hit] = field(default_factory=list)


class UnknownFilterError(ValueError):
    """A filter names an entity the index does not know."""


class LoadedIndex:
    """A published build opened for search: manifest, passages database, vectors and FAISS index."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.build_dir = resolve_build(index_dir)
        self.manifest = Manifest.read(self.build_dir)
        self.store = PassageStore(self.build_dir / DATABASE)
        if self.store.passage_count != self.manifest.passages:
            raise IndexCorruptError(
                f"{self.build_dir / DATABASE} holds {self.store.passage_count} passages but the manifest says "
                f"{self.manifest.passages}: rebuild with `seedsearch build --full`."
            )
        self.vectors, self.ids = load_vectors(
            self.build_dir, dimension=self.manifest.dimension, count=self.manifest.passages
        )
        self.row_of = {int(i): row for row, i in enumerate(self.ids)}
        info = VectorIndexInfo.from_dict(self.manifest.vector_index)
        try:
            self.searcher: VectorSearcher = load_vector_index(
                self.build_dir / FAISS_FILE, info, vectors=self.vectors
            )
        except (RuntimeError, OSError, ValueError) as err:
            raise IndexCorruptError(
                f"{self.build_dir / FAISS_FILE} cannot be read ({err}): rebuild with `seedsearch build --full`."
            ) from err

    def close(self) -> None:
        self.store.close()


class SearchEngine:
    """Answers questions over one loaded index with one embedder, both loaded once."""

    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        options: SearchOptions | None = None,
        resolver: EntityResolver | None = None,
    ) -> None:
        index.manifest.check_model(embedder.model_id, embedder.dimension)
        self.index = index
        self.embedder = embedder
        self.options = options or SearchOptions()
        self.resolver = resolver or EntityResolver.default()

    def search(
        self, query: str, k: int = 5, mode: Mode = "hybrid", filters: SearchFilters | None = None
    ) -> SearchResult:
        return self.search_batch([query], k=k, mode=mode, filters=filters)[0]

    def search_batch(
        self, queries: Sequence[str], k: int = 5, mode: Mode = "hybrid", filters: SearchFilters | None = None
    ) -> list[SearchResult]:
        started = time.perf_counter()
        filters = filters or SearchFilters()
        allowed = self._allowed_ids(filters)
        pool = max(self.options.candidates, k)
        query_vectors = (
            self.embedder.encode_queries(list(queries)) if mode != "lexical" else None
        )
        encoded_at = time.perf_counter()
        results = []
        for position, query in enumerate(queries):
            tick = time.perf_counter()
            vector = query_vectors[position] if query_vectors is not None else None
            hits = self._search_one(query, vector, k, mode, pool, allowed)
            own = time.perf_counter() - tick
            shared = (encoded_at - started) / len(queries)
            results.append(SearchResult(query, mode, round((own + shared) * 1000, 2), hits))
        return results

    # --- candidates -----------------------------------------------------------------------------------

    def _allowed_ids(self, filters: SearchFilters) -> list[int] | None:
        entity_ids: list[str] = []
        if filters.entity:
            entity_ids = self._entity_ids(filters.entity)
        return self.index.store.filter_ids(filters.doc_id, filters.speaker, entity_ids)

    def _entity_ids(self, name_or_id: str) -> list[str]:
        try:
            return [self.resolver.get(name_or_id).id]
        except KeyError:
            pass
        found = {m.entity.id for m in self.resolver.find(name_or_id)}
        if not found:
            raise UnknownFilterError(
                f"entity filter {name_or_id!r} is not a known country or organisation: use an id such as "
                "'country:PL' or a name such as 'Poland' (see GET /facets)."
            )
        return sorted(found)

    def _dense(self, vector: np.ndarray, pool: int, allowed: list[int] | None) -> dict[int, float]:
        if allowed is None:
            scores, ids = self.index.searcher.search(vector[None, :].astype(np.float32), pool)
            return {int(i): float(s) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0}
        return self._exact(vector, allowed, pool)

    def _exact(self, vector: np.ndarray, passage_ids: Sequence[int], limit: int | None = None) -> dict[int, float]:
        rows = [self.index.row_of[i] for i in passage_ids if i in self.index.row_of]
        if not rows:
            return {}
        order = np.argsort(rows)
        sorted_rows = np.asarray(rows)[order]
        sims = np.asarray(self.index.vectors[sorted_rows], dtype=np.float32) @ vector
        ids = self.index.ids[sorted_rows]
        if limit is not None and len(sims) > limit:
            top = np.argpartition(-sims, limit - 1)[:limit]
            sims, ids = sims[top], ids[top]
        return {int(i): float(s) for i, s in zip(ids, sims, strict=True)}

    def _lexical_terms(self, query: str) -> list[str]:
        words = [w.lower() for w in _WORD.findall(query)]
        return list(dict.fromkeys(w for w in words if w not in STOPWORDS))

    @staticmethod
    def _match_expression(terms: Sequence[str], intent: QuestionIntent) -> str:
        """An FTS5 OR-query of the question's words, plus the asked entities against the passages' resolved
        entities (the `extra` column), so "Poland" also finds "Polish Prime Minister" and "Warsaw"."""
        parts = ['"' + t.replace('"', '""') + '"' for t in terms if t.strip()]
        parts += ['extra : "' + e.name.replace('"', '""') + '"' for e in intent.entities]
        return " OR ".join(parts)

    # --- one query ------------------------------------------------------------------------------------

    def candidates(
        self, query: str, vector: np.ndarray | None, mode: Mode, pool: int, allowed: list[int] | None = None
    ) -> Candidates:
        """Raw scores from each retriever for the passages either of them found."""
        intent = parse_question(query, self.resolver)
        terms = self._lexical_terms(query)
        match = self._match_expression(terms, intent)
        dense: dict[int, float] = {}
        lexical: dict[int, float] = {}
        if mode != "lexical" and vector is not None:
            dense = self._dense(vector, pool, allowed)
        if mode != "dense":
            lexical = dict(self.index.store.lexical(match, pool, allowed))
        if mode == "hybrid":
            # Score every candidate on both sides, so fusion never mistakes "not retrieved" for "no match".
            missing_dense = [i for i in lexical if i not in dense]
            if missing_dense and vector is not None:
                dense.update(self._exact(vector, missing_dense))
            missing_lexical = [i for i in dense if i not in lexical]
            if missing_lexical and match:
                lexical.update(self.index.store.lexical(match, len(missing_lexical), missing_lexical))
        documents: dict[int, float] = {}
        if lexical and self.options.document_weight:
            by_document = self.index.store.document_lexical(match, pool * 2)
            documents = {pid: by_document.get(doc, 0.0) for pid, doc in self.index.store.doc_ids(list(lexical)).items()}
        return Candidates(intent, terms, dense, lexical, documents)

    def _search_one(
        self, query: str, vector: np.ndarray | None, k: int, mode: Mode, pool: int, allowed: list[int] | None
    ) -> list[Hit]:
        found = self.candidates(query, vector, mode, pool, allowed)
        fused = fuse(found, self.options, mode)
        if not fused:
            return []
        shortlist = sorted(fused, key=fused.__getitem__, reverse=True)[: max(pool, k)]
        passages = self.index.store.passages(shortlist)
        scores = {pid: fused[pid] for pid in shortlist}
        boosted = boost_statements(found.intent, scores, passages, self.options.statement_weight, self.resolver)
        ranked = sorted(boosted, key=lambda pid: (-boosted[pid].score, pid))[:k]
        return [
            Hit(
                rank,
                round(boosted[pid].score, 6),
                passages[pid],
                best_sentence(passages[pid], found.terms, found.intent),
                boosted[pid].reason,
            )
            for rank, pid in enumerate(ranked, start=1)
        ]

def hit_to_dict(hit: Hit, resolver: EntityResolver) -> dict[str, Any]:
    """The JSON shape of a hit shared by the API and `seedsearch search --json`."""
    passage = hit.passage
    speakers = []
    for statement in passage.statements:
        affiliations = list(statement.get("affiliations", []))
        speakers.append(
            {
                "speaker": statement.get("speaker", ""),
                "title": statement.get("title"),
                "affiliations": affiliations,
                "affiliation_names": [_entity_name(resolver, a) for a in affiliations],
            }
        )
    unique_speakers = list({(s["speaker"], s["title"]): s for s in speakers}.values())
    return {
        "rank": hit.rank,
        "score": hit.score,
        "passage_id": passage.id,
        "doc_id": passage.doc_id,
        "title": passage.title,
        "section": passage.section,
        "text": passage.text,
        "start": passage.start,
        "end": passage.end,
        "highlights": [{"start": s, "end": e} for s, e in hit.highlights],
        "speakers": unique_speakers,
        "entities": [{"id": e, "name": _entity_name(resolver, e)} for e in passage.entities],
    }


def _entity_name(resolver: EntityResolver, entity_id: str) -> str:
    try:
        return resolver.get(entity_id).name
    except KeyError:
        return entity_id
