"""Fusion as a pure function of the retrievers' candidates."""

from __future__ import annotations

import pytest

from indexer.entities import EntityResolver
from search_api.fusion import Candidates, SearchOptions, fuse
from search_api.question import parse_question


def candidates(dense: dict[int, float], lexical: dict[int, float], documents: dict[int, float] | None = None):
    intent = parse_question("cocoa prices", EntityResolver.default())
    return Candidates(intent, ["cocoa", "prices"], dense, lexical, documents or {})


def ranking(scores: dict[int, float]) -> list[int]:
    return sorted(scores, key=lambda pid: (-scores[pid], pid))


def test_convex_fusion_blends_cosine_as_it_is_with_min_max_bm25() -> None:
    found = candidates({1: 0.6, 2: 0.4, 3: 0.5}, {1: 2.0, 2: 6.0, 3: 4.0})
    fused = fuse(found, SearchOptions(dense_weight=0.7, dense_scores="cosine"), "hybrid")
    assert fused == pytest.approx({1: 0.7 * 0.6, 2: 0.7 * 0.4 + 0.3, 3: 0.7 * 0.5 + 0.3 * 0.5})


def test_weak_dense_candidates_are_not_stretched_to_look_strong() -> None:
    """Nothing is close to the question (cosines 0.10 and 0.12): the words decide, not a 0.02 cosine gap."""
    found = candidates({1: 0.12, 2: 0.10}, {1: 1.0, 2: 5.0})
    assert ranking(fuse(found, SearchOptions(dense_weight=0.7, dense_scores="cosine"), "hybrid")) == [2, 1]
    assert ranking(fuse(found, SearchOptions(dense_weight=0.7, dense_scores="minmax"), "hybrid")) == [1, 2]


def test_a_documents_bm25_lifts_its_passages_and_is_a_constant_in_a_one_document_index() -> None:
    dense = {1: 0.5, 2: 0.5, 3: 0.5}
    lexical = {1: 3.0, 2: 2.0, 3: 1.0}
    options = SearchOptions(document_weight=2.0)
    lifted = fuse(candidates(dense, lexical, {1: 0.0, 2: 0.0, 3: 9.0}), options, "hybrid")
    assert ranking(lifted)[0] == 3
    alone = fuse(candidates(dense, lexical, {1: 4.0, 2: 4.0, 3: 4.0}), options, "hybrid")
    assert alone == pytest.approx(fuse(candidates(dense, lexical), options, "hybrid"))


def test_single_modes_and_reciprocal_rank_fusion() -> None:
    found = candidates({1: 0.9, 2: 0.1}, {1: 1.0, 2: 3.0})
    assert fuse(found, SearchOptions(), "dense") == {1: 0.9, 2: 0.1}
    assert ranking(fuse(found, SearchOptions(), "lexical")) == [2, 1]
    rrf = fuse(found, SearchOptions(fusion="rrf", rrf_k=60), "hybrid")
    assert rrf == pytest.approx({1: 1 / 61 + 1 / 62, 2: 1 / 62 + 1 / 61})


def test_a_passage_whose_one_sentence_matches_beats_one_that_matches_a_little_throughout() -> None:
    """Passage 1 is close to the question as a whole; passage 2 holds the sentence that answers it."""
    found = candidates({1: 0.55, 2: 0.50, 3: 0.40}, {1: 1.0, 2: 1.0, 3: 1.0})
    found = Candidates(found.intent, found.terms, found.dense, found.lexical, {}, sentences={1: 0.52, 2: 0.80})
    dense = fuse(found, SearchOptions(sentence_weight=2.0), "dense")
    assert dense == pytest.approx({1: (0.55 + 2 * 0.52) / 3, 2: (0.50 + 2 * 0.80) / 3, 3: 0.40})
    assert ranking(fuse(found, SearchOptions(sentence_weight=2.0), "hybrid"))[0] == 2
    assert fuse(found, SearchOptions(sentence_weight=0.0), "dense") == found.dense
