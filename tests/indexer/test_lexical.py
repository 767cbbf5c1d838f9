"""The lexical engine: BM25 as FTS5 scored it, one query per search, filters inside, bounded query words."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from indexer.lexical import EXTRA_WEIGHT, K1, LexicalIndex, LexicalRow, write_lexical_index
from indexer.local_store import LocalStore
from indexer.store import LexicalQuery, LexicalScores, PassageFilter, SearchStore
from indexer.tokens import MAX_QUERY_TERMS, analyse, words
from search_api.engine import MAX_QUERY_WORDS, SearchEngine, SearchFilters, bounded_question

ROWS = [
    LexicalRow(3, "poland.txt", "Donald Tusk's government said Poland backs the plan.", "Poland"),
    LexicalRow(5, "poland.txt", "Warsaw talks continued on Tuesday.", "Poland"),
    LexicalRow(8, "cocoa.txt", "Cocoa arrivals rose in Bahia, exporters said.", "Brazil"),
    LexicalRow(9, "cocoa.txt", "Cocoa cocoa cocoa prices fell as arrivals of beans slowed.", ""),
    LexicalRow(12, "rice.txt", "Rice harvests in Thailand were late this year.", "Thailand"),
]
DOCUMENTS = [
    ("cocoa.txt", "Cocoa report Cocoa arrivals rose in Bahia. Cocoa prices fell."),
    ("poland.txt", "Poland Donald Tusk's government said Poland backs the plan. Warsaw talks continued."),
    ("rice.txt", "Rice Rice harvests in Thailand were late this year."),
]


@pytest.fixture
def lexical(tmp_path: Path) -> LexicalIndex:
    write_lexical_index(tmp_path / "lexical", ROWS, DOCUMENTS)
    return LexicalIndex(tmp_path / "lexical")


def brute_force_bm25(terms: Sequence[str], rows: Sequence[str]) -> list[float]:
    """FTS5's BM25 (idf floored at 1e-6, k1 1.2, b 0.75, no k1 + 1 factor) by hand, one row at a time."""
    docs = [analyse(text) for text in rows]
    stems = list(dict.fromkeys(analyse(" ".join(terms))))
    average = sum(map(len, docs)) / len(docs)
    scores = []
    for doc in docs:
        score = 0.0
        for s in stems:
            n = sum(1 for d in docs if s in d)
            idf = max(math.log((len(docs) - n + 0.5) / (n + 0.5)), 1e-6)
            tf = doc.count(s)
            if tf:
                score += idf * tf / (tf + K1 * (1 - 0.75 + 0.75 * len(doc) / average))
        scores.append(score)
    return scores


def test_scores_are_bm25_of_body_plus_half_the_entity_names(lexical: LexicalIndex) -> None:
    hits = lexical.search(["cocoa", "arrivals"], [], limit=10)
    body = brute_force_bm25(["cocoa", "arrivals"], [r.body for r in ROWS])
    extra = brute_force_bm25(["cocoa", "arrivals"], [r.extra for r in ROWS])
    expected = {r.passage_id: b + EXTRA_WEIGHT * e for r, b, e in zip(ROWS, body, extra, strict=True) if b + e > 0}
    assert hits.passages == pytest.approx(expected, rel=1e-5)
    assert set(hits.passages) == {8, 9}


def test_an_asked_entity_finds_passages_through_their_entity_names(lexical: LexicalIndex) -> None:
    """"Warsaw talks" never says Poland; its resolved entity does."""
    assert 5 in lexical.search([], ["Poland"], limit=10).passages


def test_document_scores_come_with_the_passages(lexical: LexicalIndex) -> None:
    hits = lexical.search(["cocoa"], [], limit=10)
    documents = brute_force_bm25(["cocoa"], [text for _, text in DOCUMENTS])
    assert hits.documents == pytest.approx({8: documents[0], 9: documents[0]}, rel=1e-5)


def test_a_possessive_in_the_question_finds_the_name() -> None:
    """Issue 13: `Tusk's` must find `Tusk`: the question is tokenised as the indexed text is."""
    assert analyse("Tusk's") == analyse("Tusk") == ["tusk"]
    assert words("Tusk’s remarks") == ["tusk", "remarks"]


def test_a_possessive_finds_the_passage(lexical: LexicalIndex) -> None:
    assert list(lexical.search(words("What did Tusk's government say?"), [], limit=10).passages) == [3]


def test_the_top_k_is_the_best_k_and_asked_ids_are_scored_whatever_their_rank(lexical: LexicalIndex) -> None:
    everything = lexical.search(["cocoa", "arrivals", "rice"], [], limit=10).passages
    best = lexical.search(["cocoa", "arrivals", "rice"], [], limit=1).passages
    assert list(best) == [max(everything, key=everything.__getitem__)]
    asked = lexical.search(["cocoa", "arrivals", "rice"], [], limit=1, also=[12, 5, 999]).passages
    assert asked[12] == pytest.approx(everything[12])
    assert 5 not in asked and 999 not in asked  # no shared word: no score, as FTS5 returned none


def test_filters_apply_inside_the_engine(lexical: LexicalIndex) -> None:
    allowed = np.zeros(lexical.size, dtype=bool)
    allowed[lexical.rows_of([9, 12])] = True
    found = lexical.search(["cocoa", "arrivals"], [], limit=1, allowed_rows=allowed).passages
    assert list(found) == [9]


def test_a_question_of_any_length_is_answered_with_its_first_words(fake_index: Path, fake_embedder) -> None:
    many = " ".join(f"word{i}" for i in range(MAX_QUERY_TERMS * 3))
    assert SearchEngine.lexical_terms(many) == [f"word{i}" for i in range(MAX_QUERY_TERMS)]
    assert bounded_question(many).split() == many.split()[:MAX_QUERY_WORDS]
    engine = SearchEngine(LocalStore(fake_index), fake_embedder)
    long = "cocoa arrivals " + " ".join(["zzz"] * 3000)  # 12,000 characters
    result = engine.search(long, k=3, mode="hybrid")
    assert result.query == long and result.hits
    assert result.hits == engine.search(bounded_question(long), k=3, mode="hybrid").hits


def test_an_empty_field_and_unknown_words_find_nothing(tmp_path: Path) -> None:
    rows = [LexicalRow(1, "a", "alpha beta", ""), LexicalRow(2, "a", "gamma", "")]
    write_lexical_index(tmp_path / "lex", rows, [("a", "alpha beta gamma")])
    index = LexicalIndex(tmp_path / "lex")
    assert index.search(["zeta"], ["Nowhere"], limit=5).passages == {}
    assert set(index.search(["alpha"], [], limit=5).passages) == {1}


class CountingStore:
    """A SearchStore that counts lexical queries, to prove a hybrid search runs one."""

    def __init__(self, inner: LocalStore) -> None:
        self.inner = inner
        self.lexical_queries = 0
        self.manifest = inner.manifest

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def lexical(self, query: LexicalQuery, limit: int, where: PassageFilter, also: Sequence[int] = ()) -> LexicalScores:
        self.lexical_queries += 1
        return self.inner.lexical(query, limit, where, also)


def test_a_hybrid_search_runs_one_lexical_query_and_scores_every_candidate_on_both_sides(
    fake_index: Path, fake_embedder
) -> None:
    store = CountingStore(LocalStore(fake_index))
    engine = SearchEngine(store, fake_embedder)  # type: ignore[arg-type]  # duck-typed counting wrapper
    vector = fake_embedder.encode_queries(["cocoa arrivals in Bahia"])[0]
    found = engine.candidates("cocoa arrivals in Bahia", vector, "hybrid", pool=5)
    assert store.lexical_queries == 1
    assert set(found.lexical) <= set(found.dense)  # every lexical candidate has its cosine
    alone = store.inner.lexical(LexicalQuery(("cocoa", "arrivals", "bahia")), 1000, PassageFilter())
    for pid, score in found.lexical.items():  # dense candidates' BM25 equals what the full query gives them
        assert score == pytest.approx(alone.passages[pid])


def test_a_filtered_search_returns_only_allowed_passages(fake_index: Path, fake_embedder) -> None:
    engine = SearchEngine(LocalStore(fake_index), fake_embedder)
    for mode in ("lexical", "dense", "hybrid"):
        result = engine.search("cocoa security guarantees", k=10, mode=mode, filters=SearchFilters(doc_id="cocoa.txt"))
        assert result.hits and {h.passage.doc_id for h in result.hits} == {"cocoa.txt"}


def test_the_local_store_is_a_search_store(fake_index: Path) -> None:
    store: SearchStore = LocalStore(fake_index)
    assert store.manifest.passages == len(store.passages(range(1, 10_000)))
