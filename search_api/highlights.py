"""Highlights: the sentence of a passage that best answers the question, as offsets within the passage."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from indexer.store import StoredPassage
from indexer.tokens import analyse, stem
from search_api.question import QuestionIntent, statement_match


def best_sentence(passage: StoredPassage, terms: Sequence[str], intent: QuestionIntent) -> tuple[tuple[int, int], ...]:
    """The sentence sharing most (stemmed) words with the question, or carrying the asked party's statement."""
    spans = passage.sentence_spans
    if len(spans) <= 1:
        return ((spans[0][0], spans[0][1]),) if spans else ((0, len(passage.text)),)
    wanted = {stem(t) for t in terms}
    speaking = (
        [s for s in passage.parsed_statements if statement_match(intent, [s]) > 0] if intent.asks_statement else []
    )
    best, best_score = spans[0], -1.0
    for start, end in spans:
        score = float(len(_stemmed_words(passage.text[start:end]) & wanted))
        absolute = (passage.start + start, passage.start + end)
        if any(s.start < absolute[1] and s.end > absolute[0] for s in speaking):
            score += 3.0
        if score > best_score:
            best, best_score = (start, end), score
    return (best,)


@functools.lru_cache(maxsize=65_536)
def _stemmed_words(sentence: str) -> frozenset[str]:
    """The sentence's stems as the lexical index analyses text, so a highlight matches what the search matched."""
    return frozenset(analyse(sentence))
