"""Who-said-what: lift passages where the party the question asks about speaks about the question's topic.

Relevance first, speaker second: on a collection, many passages have the asked party speaking about something
else, and many are on the topic with someone else speaking. The statement boost is therefore scaled by the
passage's topical relevance (its fused score relative to the best candidate's) and vanishes below
``RELEVANCE_FLOOR``: a passage where the party speaks on the topic beats both, and a passage off the topic gains
nothing however well its speaker matches. A question with no topic ("What did Poland say?") asks for anything
the party said, so there the speaker decides. A question that names no party gets no boost: the fused order.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from indexer.attribution import Statement
from indexer.entities import EntityResolver
from indexer.store import StoredPassage
from indexer.tokens import words
from search_api.question import QuestionIntent, best_statement

# Candidates whose fused score is below RELEVANCE_FLOOR times the best candidate's get no statement boost; the
# boost then rises linearly to its full weight over RELEVANCE_RAMP. On the seed questions every floor from 0.3 to
# 0.8 keeps hit@1 0.963 / hit@3 1.0 at weight >= 0.5 (there the topic-less questions let the speaker decide);
# the values for a collection are to be chosen with `python -m benchmarks.tune_statement_boost` on the Reuters
# attribution development set over the full Reuters index (there: floor 0.6, ramp 0.3 gave hit@1 0.275, hit@3 0.55).
RELEVANCE_FLOOR = 0.6
RELEVANCE_RAMP = 0.0

# A party question's fused score is dominated by the party's name ("What did Japan say ..."): every passage
# naming Japan looks relevant. Its topical relevance therefore also counts the share of the question's topic
# words the passage holds, weighted TOPIC_WEIGHT; chosen with the weight and gate on the Reuters attribution
# development set (full index): hit@1 0.275 -> 0.35, hit@3 0.55 -> 0.65 with the statement boost scaled by
# TOPICAL_STATEMENT_SHARE, floor 0.6, ramp 0. A question with no topic keeps the full statement weight: there
# the speaker decides (seed "What did Poland say?").
TOPIC_WEIGHT = 0.5
TOPICAL_STATEMENT_SHARE = 0.3


@dataclass(frozen=True)
class StatementReason:
    """Why a hit was lifted: the statement that answers the question, e.g. Jacques Chirac -> French president."""

    speaker: str
    verb: str
    title: str | None
    path: tuple[str, ...]


@dataclass(frozen=True)
class Boosted:
    """A candidate's score after the statement boost, and the statement behind the boost (if any)."""

    score: float
    reason: StatementReason | None = None


def relevance_gate(score: float, best: float, floor: float = RELEVANCE_FLOOR, ramp: float = RELEVANCE_RAMP) -> float:
    """0 below ``floor`` times the best score, rising linearly to 1 at ``floor + ramp`` times it."""
    if best <= 0.0 or score <= 0.0:
        return 0.0
    share = min(1.0, score / best)
    if ramp <= 0.0:
        return 1.0 if share >= floor else 0.0
    return min(1.0, max(0.0, (share - floor) / ramp))


def boost_statements(
    intent: QuestionIntent,
    fused: Mapping[int, float],
    passages: Mapping[int, StoredPassage],
    weight: float,
    resolver: EntityResolver,
    floor: float = RELEVANCE_FLOOR,
    ramp: float = RELEVANCE_RAMP,
    topic_weight: float = TOPIC_WEIGHT,
) -> dict[int, Boosted]:
    """Each candidate's fused score plus its relevance-scaled statement boost, with the reason for it."""
    shortlist = [pid for pid in fused if pid in passages]
    if not (weight and intent.names_a_party):
        return {pid: Boosted(fused[pid]) for pid in shortlist}
    relevance = {pid: fused[pid] + topic_weight * topic_coverage(intent, passages[pid].text) for pid in shortlist}
    best = max(relevance.values(), default=0.0)
    if intent.topic:
        weight *= TOPICAL_STATEMENT_SHARE
    out: dict[int, Boosted] = {}
    for pid in shortlist:
        gate = relevance_gate(relevance[pid], best, floor, ramp) if intent.topic else 1.0
        match, statement = best_statement(intent, passages[pid].parsed_statements) if gate else (0.0, None)
        if statement is None or match <= 0.0:
            out[pid] = Boosted(relevance[pid])
            continue
        out[pid] = Boosted(relevance[pid] + weight * match * gate, statement_reason(statement, intent, resolver))
    return out


def topic_coverage(intent: QuestionIntent, text: str) -> float:
    """The share of the question's distinct topic words (tokenised as the index does) found in ``text``."""
    topic = _topic_pattern(intent.topic)
    if topic is None:
        return 0.0
    pattern, wanted = topic
    # One regex pass over the lower-cased text; tokenising every candidate cost ~4 ms per 100 passages.
    present = set(pattern.findall(text.lower())) if text.isascii() else set(words(text))
    return len(present & wanted) / len(wanted)


@functools.lru_cache(maxsize=256)
def _topic_pattern(topic: tuple[str, ...]) -> tuple[re.Pattern[str], frozenset[str]] | None:
    """A whole-word pattern of the topic's distinct words, and those words (None for no topic)."""
    distinct = list(dict.fromkeys(words(" ".join(topic))))
    if not distinct:
        return None
    return re.compile(r"\b(" + "|".join(map(re.escape, distinct)) + r")\b"), frozenset(distinct)


def statement_boost(intent: QuestionIntent, passage: StoredPassage, weight: float, gate: float = 1.0) -> float:
    """What one passage's statements add to its fused score, given its relevance gate (see the module doc)."""
    if not (intent.asks_statement and passage.statements and weight and gate):
        return 0.0
    return weight * gate * best_statement(intent, passage.parsed_statements)[0]


def statement_reason(statement: Statement, intent: QuestionIntent, resolver: EntityResolver) -> StatementReason:
    """The statement as a path from speaker through title to the party asked about (or its first party)."""
    asked = [e.id for e in intent.entities if e.id in statement.affiliations]
    party_ids: Sequence[str] = asked or statement.affiliations[:1]
    names = tuple(_entity_name(resolver, entity_id) for entity_id in party_ids)
    title = statement.title if statement.title and statement.title != statement.speaker else None
    path = (statement.speaker, *((title,) if title else ()), *names)
    return StatementReason(statement.speaker, statement.verb, statement.title, path)


def _entity_name(resolver: EntityResolver, entity_id: str) -> str:
    try:
        return resolver.get(entity_id).name
    except KeyError:
        return entity_id
