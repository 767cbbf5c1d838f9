"""Search over a published build: dense + lexical candidates, fusion, who-said-what boosts, highlights.

`SearchEngine.search_batch` is the one code path; the API, the CLI and `seedsearch eval` all call it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from indexer.embedding import Embedder
from indexer.entities import EntityResolver
from indexer.store import LexicalQuery, PassageFilter, SearchStore, StoredPassage
from indexer.tokens import MAX_QUERY_TERMS, words
from search_api.answers import statement_answers
from search_api.boosts import StatementReason, boost_statements
from search_api.contract import Mode
from search_api.fusion import Candidates, SearchOptions, fuse
from search_api.highlights import best_sentence_in_run
from search_api.question import parse_question, statement_match

#: A question is searched by its first 64 words; the rest is ignored, never refused. Real questions are far
#: shorter; without the bound a 2,000-character question spent ~0.7 s encoding 256 tokens on a loaded 2-core
#: machine, and parsing and boosting grew with its entities.
MAX_QUERY_WORDS = 64
#: Questions encoded at once by one engine (each encoding runs the whole graph on the calling thread).
ENCODER_THREADS = 2
Vector = npt.NDArray[np.float32]


def bounded_question(query: str) -> str:
    """The part of `query` that is searched: its first `MAX_QUERY_WORDS` words."""
    parts = query.split(maxsplit=MAX_QUERY_WORDS)
    return query if len(parts) <= MAX_QUERY_WORDS else " ".join(parts[:MAX_QUERY_WORDS])


@dataclass(frozen=True)
class SearchFilters:
    doc_id: str | None = None
    speaker: str | None = None
    entity: str | None = None
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    passage: StoredPassage
    highlights: tuple[tuple[int, int], ...]  # within the text of `run`
    reason: StatementReason | None = None
    run: tuple[StoredPassage, ...] = ()  # what the hit shows: `passage` and its neighbours (search_api.answers)


@dataclass(frozen=True)
class SearchResult:
    query: str
    mode: Mode
    took_ms: float
    hits: list[Hit] = field(default_factory=list)


class UnknownFilterError(ValueError):
    """A filter names an entity the index does not know."""


class SearchEngine:
    """Answers questions over one store with one embedder, both loaded once; it reads only `SearchStore`."""

    def __init__(
        self,
        index: SearchStore,
        embedder: Embedder,
        options: SearchOptions | None = None,
        resolver: EntityResolver | None = None,
    ) -> None:
        index.manifest.check_model(embedder.model_id, embedder.dimension)
        self.index = index
        self.embedder = embedder
        self.options = options or SearchOptions()
        self.resolver = resolver or EntityResolver.default()
        self._encoder: ThreadPoolExecutor | None = None

    def search(
        self, query: str, k: int = 5, mode: Mode = Mode.HYBRID, filters: SearchFilters | None = None
    ) -> SearchResult:
        """One question; see `search_batch`."""
        return self.search_batch([query], k=k, mode=mode, filters=filters)[0]

    def search_batch(
        self, queries: Sequence[str], k: int = 5, mode: Mode = Mode.HYBRID, filters: SearchFilters | None = None
    ) -> list[SearchResult]:
        """The `k` best passages for each question (its first `MAX_QUERY_WORDS` words); `took_ms` includes its
        share of the batch's encoding.

        One question (what the API asks) is encoded on a worker thread while this one parses it and runs the
        lexical query, so a hybrid search costs about the longer of the two rather than their sum; a batch is
        encoded at once, which is cheaper per question.
        """
        started = time.perf_counter()
        where = self._passage_filter(filters or SearchFilters())
        pool = max(self.options.candidates, k)
        searched = [bounded_question(query) for query in queries]
        if mode != "lexical" and len(searched) == 1:
            pending = self._encoder_pool().submit(self.embedder.encode_queries, searched)
            hits = self._search_one(searched[0], lambda: pending.result()[0], k, mode, pool, where)
            return [SearchResult(queries[0], mode, round((time.perf_counter() - started) * 1000, 2), hits)]
        query_vectors = self.embedder.encode_queries(searched) if mode != "lexical" else None
        encoded_at = time.perf_counter()
        results = []
        for position, query in enumerate(queries):
            tick = time.perf_counter()
            vector = query_vectors[position] if query_vectors is not None else None
            hits = self._search_one(searched[position], vector, k, mode, pool, where)
            own = time.perf_counter() - tick
            shared = (encoded_at - started) / len(queries)
            results.append(SearchResult(query, mode, round((own + shared) * 1000, 2), hits))
        return results

    def _encoder_pool(self) -> ThreadPoolExecutor:
        if self._encoder is None:
            self._encoder = ThreadPoolExecutor(max_workers=ENCODER_THREADS, thread_name_prefix="encode-query")
        return self._encoder

    # --- candidates -----------------------------------------------------------------------------------

    def _passage_filter(self, filters: SearchFilters) -> PassageFilter:
        entity_ids = tuple(self._entity_ids(filters.entity)) if filters.entity else ()
        return PassageFilter(filters.doc_id, filters.speaker, entity_ids, filters.since, filters.until)

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

    @staticmethod
    def lexical_terms(query: str) -> list[str]:
        """The question's distinct content words, tokenised as the index tokenises text, at most
        `MAX_QUERY_TERMS` of them: the words of a longer question beyond the bound are ignored."""
        return list(dict.fromkeys(words(query)))[:MAX_QUERY_TERMS]

    # --- one query ------------------------------------------------------------------------------------

    def candidates(
        self,
        query: str,
        vector: Vector | Callable[[], Vector] | None,
        mode: Mode,
        pool: int,
        where: PassageFilter | None = None,
    ) -> Candidates:
        """Raw scores from each retriever for the passages either of them found.

        In hybrid mode every candidate is scored on both sides, so fusion never mistakes "not retrieved" for
        "no match": the dense candidates' BM25 comes from the same (single) lexical query, and the lexical
        candidates' cosines are computed by id. Candidates of several sentences also get their best sentence's
        cosine. `vector` may be a function that waits for the question's
        vector: it is called only after the lexical query has summed its scores.
        """
        where = where or PassageFilter()
        intent = parse_question(query, self.resolver)
        terms = self.lexical_terms(query)
        dense: dict[int, float] = {}
        lexical: dict[int, float] = {}
        documents: dict[int, float] = {}
        ready: list[Vector] = []

        def the_vector() -> Vector | None:
            if not ready and vector is not None:
                ready.append(vector() if callable(vector) else vector)
            return ready[0] if ready else None

        def dense_ids() -> list[int]:
            found_vector = the_vector()
            if found_vector is not None:
                dense.update(self.index.dense(found_vector, pool, where))
            return list(dense)

        if mode == "dense":
            dense_ids()
        else:
            asked = LexicalQuery(tuple(terms), tuple(e.name for e in intent.entities))
            found = self.index.lexical(asked, pool, where, also=dense_ids if mode == "hybrid" else ())
            if mode == "hybrid" and not ready:  # a store that had no use for the ids never called for them
                dense_ids()
            lexical = found.passages
            if self.options.document_weight:
                documents = found.documents
        if mode == "hybrid" and (found_vector := the_vector()) is not None:
            missing_dense = [i for i in lexical if i not in dense]
            if missing_dense:
                dense.update(self.index.dense_scores(found_vector, missing_dense))
        sentences: dict[int, float] = {}
        if dense and self.options.sentence_weight and (found_vector := the_vector()) is not None:
            sentences = self.index.sentence_scores(found_vector, list(dense))
        return Candidates(intent, terms, dense, lexical, documents, sentences)

    def _search_one(
        self,
        query: str,
        vector: Vector | Callable[[], Vector] | None,
        k: int,
        mode: Mode,
        pool: int,
        where: PassageFilter,
    ) -> list[Hit]:
        found = self.candidates(query, vector, mode, pool, where)
        fused = fuse(found, self.options, mode)
        if not fused:
            return []
        shortlist = sorted(fused, key=fused.__getitem__, reverse=True)[: max(pool, k)]
        passages = self.index.passages(shortlist)
        scores = {pid: fused[pid] for pid in shortlist}
        boosted = boost_statements(found.intent, scores, passages, self.options.statement_weight, self.resolver)
        ranked = sorted(boosted, key=lambda pid: (-boosted[pid].score, pid))
        intent = found.intent
        answers = statement_answers(
            self.index,
            ranked,
            k,
            self.options.answer_chars,
            {pid for pid, b in boosted.items() if b.reason},
            lambda passage: statement_match(intent, passage.parsed_statements) > 0.0,
            intent.names_a_party,
        )
        return [
            Hit(
                rank,
                round(boosted[pid].score, 6),
                passages[pid],
                best_sentence_in_run(run, found.terms, found.intent),
                boosted[pid].reason,
                run,
            )
            for rank, (pid, run) in enumerate(answers, start=1)
        ]
