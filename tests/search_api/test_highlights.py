"""Highlights pick the sentence that shares the question's words, as the lexical index analyses them."""

from __future__ import annotations

from indexer.store import StoredPassage
from search_api.engine import SearchEngine
from search_api.highlights import best_sentence
from search_api.question import parse_question


def passage(text: str) -> StoredPassage:
    return StoredPassage(
        id=1, doc_id="d", title="t", position=0, section=None, start=0, end=len(text), text=text,
        entities=(), statements=(),
    )


def test_a_possessive_in_the_passage_is_highlighted_for_the_bare_name() -> None:
    text = "Markets were calm on Monday. Tusk's government wants a new budget. Prices rose slightly."
    question = "What does Tusk want?"
    (start, end), = best_sentence(passage(text), SearchEngine.lexical_terms(question), parse_question(question))
    assert text[start:end] == "Tusk's government wants a new budget."


def test_accents_match_as_the_index_matches_them() -> None:
    text = "Talks stalled in Brussels on Monday. Negotiators later met in Kraków. Nothing else happened."
    question = "What about Krakow?"
    (start, end), = best_sentence(passage(text), SearchEngine.lexical_terms(question), parse_question(question))
    assert text[start:end] == "Negotiators later met in Kraków."
