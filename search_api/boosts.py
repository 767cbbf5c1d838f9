"""Who-said-what: lift passages where the party the question asks about is the one speaking."""

from __future__ import annotations

from search_api.question import QuestionIntent, statement_match
from indexer.store import StoredPassage


def statement_boost(intent: QuestionIntent, passage: StoredPassage, weight: float) -> float:
    """What the passage's statements add to its fused score for this question."""
    if not (intent.asks_statement and passage.statements and weight):
        return 0.0
    return weight * statement_match(intent, passage.parsed_statements)
