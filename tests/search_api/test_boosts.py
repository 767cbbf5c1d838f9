"""The statement boost: relevance first, speaker second, and no change at all for questions naming no party."""

from __future__ import annotations

import pytest

from indexer.attribution import Statement
from indexer.entities import EntityResolver
from indexer.store import StoredPassage
from search_api.boosts import StatementReason, boost_statements, relevance_gate, topic_coverage
from search_api.question import parse_question


def passage(pid: int, text: str, *statements: Statement) -> StoredPassage:
    return StoredPassage(
        id=pid,
        doc_id=f"doc-{pid}",
        title="",
        position=0,
        section=None,
        start=0,
        end=len(text),
        text=text,
        entities=(),
        statements=tuple(s.to_dict() for s in statements),
    )


def by(speaker: str, title: str | None, *affiliations: str) -> Statement:
    return Statement(speaker=speaker, title=title, affiliations=affiliations, start=0, end=9, verb="warned")


JAPAN = by("Kiichi Miyazawa", "Japanese Finance Minister", "country:JP")
OTHER = by("James Baker", "U.S. Treasury Secretary", "country:US")
PASSAGES = {
    1: passage(1, "Miyazawa warned deflation was spreading.", JAPAN),  # the party, on the topic
    2: passage(2, "Baker warned deflation was spreading.", OTHER),  # the topic, someone else
    3: passage(3, "Miyazawa warned on the labour market.", JAPAN),  # the party, off the topic
    4: passage(4, "Deflation figures were published."),
}
FUSED = {1: 0.55, 2: 0.60, 3: 0.25, 4: 0.50}


def ranked(question: str, fused: dict[int, float] = FUSED) -> list[int]:
    boosted = boost_statements(parse_question(question), fused, PASSAGES, 1.0, EntityResolver.default())
    return sorted(boosted, key=lambda pid: (-boosted[pid].score, pid))


def test_the_party_on_the_topic_beats_the_topic_alone_and_the_party_off_it() -> None:
    order = ranked("What did Japan warn about deflation?")
    assert order[0] == 1
    assert order.index(3) > order.index(2)  # off the topic: no lift for the right speaker


def test_a_question_without_a_topic_lets_the_speaker_decide() -> None:
    assert ranked("What did Japan say?")[:2] == [1, 3]


def test_a_question_naming_no_party_gets_exactly_the_fused_order() -> None:
    question = "How fast is deflation spreading?"
    boosted = boost_statements(parse_question(question), FUSED, PASSAGES, 1.0, EntityResolver.default())
    assert {pid: b.score for pid, b in boosted.items()} == FUSED
    assert all(b.reason is None for b in boosted.values())


def test_topic_coverage_counts_the_question_topic_words_in_the_passage() -> None:
    intent = parse_question("What did Japan warn about deflation and the labour market?")
    assert topic_coverage(intent, PASSAGES[3].text) > topic_coverage(intent, PASSAGES[1].text) > 0.0
    assert topic_coverage(intent, "Nothing related here.") == 0.0
    assert topic_coverage(parse_question("What did Japan say?"), PASSAGES[1].text) == 0.0


def test_among_the_party_s_passages_the_one_on_the_topic_wins_though_fused_lower() -> None:
    # The party's name dominates the fused score: passage 3 (off the topic) is fused higher than passage 1.
    order = ranked("What did Japan warn about deflation?", {1: 0.50, 2: 0.40, 3: 0.55, 4: 0.30})
    assert order[0] == 1


def test_a_boosted_hit_says_why() -> None:
    boosted = boost_statements(
        parse_question("What did Japan warn about deflation?"), FUSED, PASSAGES, 1.0, EntityResolver.default()
    )
    assert boosted[1].reason == StatementReason(
        "Kiichi Miyazawa",
        "warned",
        "Japanese Finance Minister",
        ("Kiichi Miyazawa", "Japanese Finance Minister", "Japan"),
    )
    assert boosted[2].reason is None


def test_relevance_gate_shape() -> None:
    assert relevance_gate(0.2, 1.0, floor=0.6, ramp=0.1) == 0.0
    assert relevance_gate(0.65, 1.0, floor=0.6, ramp=0.1) == pytest.approx(0.5)
    assert relevance_gate(1.0, 1.0, floor=0.6, ramp=0.1) == 1.0
    assert relevance_gate(0.7, 1.0, floor=0.6, ramp=0.0) == 1.0
    assert relevance_gate(0.5, 0.0) == 0.0
