"""Question parsing and statement matching: whom a question asks about, and how well a passage answers it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.attribution import Statement, attribute_statements
from search_api.question import QuestionIntent, parse_question, same_name, statement_match

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "000_2ab4845599296aef.txt"
SEVEN = tuple(f"country:{c}" for c in ("FR", "DE", "IT", "PL", "ES", "GB", "DK"))


def said(speaker: str, title: str | None, affiliations: tuple[str, ...], verb: str = "said") -> Statement:
    """A statement at offsets 0..9 (matching never reads the offsets)."""
    return Statement(speaker=speaker, title=title, affiliations=affiliations, start=0, end=9, verb=verb)


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_statements(seed_text: str) -> list[Statement]:
    return attribute_statements(seed_text)


@pytest.mark.parametrize(
    ("question", "entity_id"),
    [
        ("What did Poland say?", "country:PL"),
        ("What did Warsaw say?", "country:PL"),
        ("What did the Poles say?", "country:PL"),
        ("What did Britain say?", "country:GB"),
        ("What did the UK say?", "country:GB"),
        ("What did Kyiv say?", "country:UA"),
        ("What did Brussels say?", "org:EU"),
        ("What did the European Commission say?", "org:EC"),
    ],
)
def test_parse_question_resolves_the_party(question: str, entity_id: str) -> None:
    intent = parse_question(question)
    assert [e.id for e in intent.entities] == [entity_id]
    assert intent.asks_statement
    assert intent.names == ()


def test_parse_question_roles_names_and_intent() -> None:
    military = parse_question("What did France's military chief say?")
    assert [e.id for e in military.entities] == ["country:FR"]
    assert military.role_terms == ("military chief",)
    envoy = parse_question("What did the US envoy say about the security protocols?")
    assert envoy.role_terms == ("envoy",)
    macron = parse_question("How did Macron react to the plan?")
    assert macron.names == ("Macron",)
    assert macron.asks_statement
    assert not parse_question("How long will the security guarantees last?").asks_statement
    assert parse_question("What does Moscow want from a peace deal?").asks_statement
    json.dumps(military.to_dict())


def test_statement_match_ranks_the_party_above_groups_and_others() -> None:
    tusk = said("Donald Tusk", "Polish Prime Minister", ("country:PL",))
    joint = said("leaders of France, Poland and Spain", "leaders", SEVEN)
    other = said("Keir Starmer", "UK Prime Minister", ("country:GB",))
    poland = parse_question("What did Poland say?")
    assert statement_match(poland, [tusk]) == 1.0
    assert 0 < statement_match(poland, [joint]) < 1.0
    assert statement_match(poland, [other]) == 0.0
    assert statement_match(poland, [other, tusk]) == 1.0
    assert statement_match(poland, []) == 0.0
    assert statement_match(parse_question("Where was the summit held in Poland?"), [tusk]) == 0.0


def test_statement_match_prefers_the_asked_role() -> None:
    zelenskyy = said("Volodymyr Zelenskyy", "Ukrainian President", ("country:UA",))
    kyiv = said("Kyiv", None, ("country:UA",))
    intent = parse_question("What did Ukraine's president say?")
    assert statement_match(intent, [zelenskyy]) > statement_match(intent, [kyiv]) > 0


def test_statement_match_by_name() -> None:
    macron = said("Emmanuel Macron", None, (), verb="told")
    adviser = said("an adviser to Mr Macron", "adviser", ())
    intent = parse_question("What did Macron say about peace?")
    assert statement_match(intent, [macron]) == 1.0
    assert 0 < statement_match(intent, [adviser]) < 1.0


def test_seed_questions_end_to_end(seed_text: str, seed_statements: list[Statement]) -> None:
    """The best-scoring sentence for each party is one its own speaker said."""

    def best(question: str) -> Statement:
        intent: QuestionIntent = parse_question(question)
        return max(seed_statements, key=lambda s: statement_match(intent, [s]))

    assert best("What did the Poles say?").speaker == "Donald Tusk"
    assert best("What did Lithuania say?").speaker == "Gitanas Nauseda"
    assert best("What did France's military chief say?").speaker == "Fabien Mandon"
    assert best("What did the US envoy say?").speaker == "Steve Witkoff"
    assert best("What did Denmark say?").affiliations == SEVEN


def test_full_names_in_questions_stay_together() -> None:
    assert parse_question("What did Ursula von der Leyen write?").names == ("Ursula von der Leyen",)
    intent = parse_question("What did Donald Tusk say?")
    assert intent.names == ("Donald Tusk",)
    trump = said("Donald Trump", "US President", ("country:US",))
    tusk = said("Donald Tusk", "Polish Prime Minister", ("country:PL",))
    assert statement_match(intent, [tusk]) == 1.0
    assert statement_match(intent, [trump]) == 0.0


def test_a_central_bank_statement_answers_a_question_about_the_central_bank() -> None:
    bank = said("The Bank of Japan", None, ("country:JP",))
    assert statement_match(parse_question("What did Japan's central bank say?"), [bank]) == 1.0


def test_an_implied_country_answers_for_it_less_surely_than_a_named_one() -> None:
    named = said("Paul Keating", "Australian Treasurer", ("country:AU",))
    implied = said("Paul Keating", "Treasurer", ()).model_copy(update={"implied": ("country:AU",)})
    intent = parse_question("What did Canberra say about interest rates?")
    assert statement_match(intent, [named]) == 1.0
    assert 0 < statement_match(intent, [implied]) < 1.0
    assert statement_match(parse_question("What did Japan say about interest rates?"), [implied]) == 0.0


@pytest.mark.parametrize(
    ("question", "speaker", "answers"),
    [
        ("What did Zelensky say?", "Volodymyr Zelenskyy", True),
        ("What did Gorbachev say?", "Mikhail Gorbachov", True),
        ("What did Miyazawa say?", "Kiichi Miyazawa", True),
        ("What did Li say?", "Lu Ping", False),
        ("What did Baker say?", "Boris Becker", False),
    ],
)
def test_names_match_across_spellings_but_not_across_people(question: str, speaker: str, answers: bool) -> None:
    assert (statement_match(parse_question(question), [said(speaker, None, ())]) == 1.0) is answers


def test_the_party_is_who_speaks_not_the_topic() -> None:
    intent = parse_question("What did Tokyo say about its trade friction with the United States?")
    assert [e.id for e in intent.entities] == ["country:JP"]
    bank = parse_question("What did the Bank of Japan tell Prime Minister Nakasone about the discount rate?")
    assert ([e.id for e in bank.entities], bank.names, bank.role_terms) == (["bank:JP-BOJ"], (), ())
    assert parse_question("What does Riyadh hope to do with its oil exports?").asks_statement


@pytest.mark.parametrize(
    ("asked", "written", "same"),
    [("qadhafi", "gaddafi", True), ("kadafi", "gaddafi", True), ("erdoğan", "erdogan", True),
     ("brown", "braun", False), ("medvedev", "mercedes", False), ("gaddafi", "ghani", False)],
)
def test_transliterated_names_are_one_person(asked: str, written: str, same: bool) -> None:
    assert same_name(asked, written) is same


def test_a_shadow_role_is_the_opposition_counterpart_not_the_office_holder() -> None:
    shadow = parse_question("What did the shadow chancellor say about tax?")
    holder = parse_question("What did the chancellor say about tax?")
    letwin = said("Oliver Letwin", "Shadow chancellor", ())
    brown = said("Gordon Brown", "Chancellor", ())
    assert statement_match(shadow, [letwin]) > statement_match(shadow, [brown])
    assert statement_match(holder, [brown]) > statement_match(holder, [letwin])


@pytest.mark.parametrize(
    ("question", "names", "roles"),
    [
        ("What did the home secretary say about ID cards?", (), ("home minister",)),
        ("What did the Welsh first minister say?", (), ("first minister",)),
        ("What did the shadow home secretary say?", (), ("shadow home minister",)),
        ("What did the foreign secretary say?", (), ("foreign minister",)),
    ],
)
def test_a_portfolio_s_minister_is_one_role_whatever_the_title(
    question: str, names: tuple[str, ...], roles: tuple[str, ...]
) -> None:
    intent = parse_question(question)
    assert (intent.names, intent.role_terms) == (names, roles)


def test_a_portfolio_role_matches_that_portfolio_only() -> None:
    intent = parse_question("What did the home secretary say about ID cards?")
    clarke = said("Charles Clarke", "Home Secretary", ())
    straw = said("Jack Straw", "Foreign Secretary", ())
    davis = said("David Davis", "shadow home secretary", ())
    assert statement_match(intent, [clarke]) > max(statement_match(intent, [straw]), statement_match(intent, [davis]))


def test_a_person_asked_about_a_country_is_the_party_not_the_country() -> None:
    intent = parse_question("What did Tusk say about Russia?")
    assert (intent.names, intent.entities) == (("Tusk",), ())
    assert [e.id for e in parse_question("Reaction of Poland to the summit?").entities] == ["country:PL"]


def test_a_question_asking_for_a_stance_prefers_the_party_s_words_made_with_it() -> None:
    intent = parse_question("What did the Bank of England warn about?")
    warned = said("the Bank", None, ("bank:GB-BOE", "country:GB"), verb="warned")
    plain = said("the Bank", None, ("bank:GB-BOE", "country:GB"))
    other = said("Reuters", None, ("news:REUTERS",), verb="warned")
    assert statement_match(intent, [warned]) > statement_match(intent, [plain]) > statement_match(intent, [other])
    assert parse_question("What did Poland say?").verb is None
