"""Highlights: the sentence of a passage (or of an answer's run of passages) that best answers the question."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from indexer.store import StoredPassage
from indexer.tokens import analyse, stem
from search_api.answers import run_offsets
from search_api.question import QuestionIntent, statement_match


def best_sentence(passage: StoredPassage, terms: Sequence[str], intent: QuestionIntent) -> tuple[tuple[int, int], ...]:
    """The sentence sharing most (stemmed) words with the question, or carrying the asked party's statement."""
    return best_sentence_in_run((passage,), terms, intent)


def best_sentence_in_run(
    run: Sequence[StoredPassage], terms: Sequence[str], intent: QuestionIntent
) -> tuple[tuple[int, int], ...]:
    """`best_sentence` over the passages of an answer, as offsets within `answers.run_text(run)`."""
    best, best_score = (0, 0), -1.0
    for offset, passage in zip(run_offsets(run), run, strict=True):
        (start, end), score = _scored_best(passage, terms, intent)
        if score > best_score:
            best, best_score = (offset + start, offset + end), score
    return (best,)


def _scored_best(passage: StoredPassage, terms: Sequence[str], intent: QuestionIntent) -> tuple[tuple[int, int], float]:
    spans = passage.sentence_spans or ((0, len(passage.text)),)
    wanted = {stem(t) for t in terms}
    matches = [(s, statement_match(intent, [s])) for s in passage.parsed_statements] if intent.asks_statement else []
    speaking = [(s, match) for s, match in matches if match > 0]
    best, best_score = spans[0], -1.0
    for start, end in spans:
        score = float(len(_stemmed_words(passage.text[start:end]) & wanted))
        absolute = (passage.start + start, passage.start + end)
        # The party's own statement outweighs a joint one it signed ("leaders of France, ... Poland said").
        score += 3.0 * max((m for s, m in speaking if s.start < absolute[1] and s.end > absolute[0]), default=0.0)
        if score > best_score:
            best, best_score = (start, end), score
    return best, best_score


@functools.lru_cache(maxsize=65_536)
def _stemmed_words(sentence: str) -> frozenset[str]:
    """The sentence's stems as the lexical index analyses text, so a highlight matches what the search matched."""
    return frozenset(analyse(sentence))
