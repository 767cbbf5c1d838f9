"""Entity resolution: countries and organisations by name, short name, demonym, capital and seat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.entities import Entity, EntityResolver
from tests import paths

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "000_2ab4845599296aef.txt"
REUTERS = paths.REUTERS


@pytest.fixture(scope="module")
def resolver() -> EntityResolver:
    return EntityResolver.default()


def ids(resolver: EntityResolver, text: str) -> list[str]:
    return [m.entity.id for m in resolver.find(text)]


def test_default_is_built_once() -> None:
    assert EntityResolver.default() is EntityResolver.default()


@pytest.mark.parametrize(
    ("question", "entity_id"),
    [
        ("What did Poland say?", "country:PL"),
        ("What did Warsaw say?", "country:PL"),
        ("What did the Poles say?", "country:PL"),
        ("What did the Polish government say?", "country:PL"),
        ("What did Britain say?", "country:GB"),
        ("What did the UK say?", "country:GB"),
        ("What did the British say?", "country:GB"),
        ("What did Kyiv say?", "country:UA"),
        ("What did Moscow say?", "country:RU"),
        ("What did the Kremlin say?", "country:RU"),
        ("What did Washington say?", "country:US"),
        ("What did the U.S. say?", "country:US"),
        ("What did Brussels say?", "org:EU"),
        ("What did the European Commission say?", "org:EC"),
        ("What did Nato say?", "org:NATO"),
        ("What did NATO say?", "org:NATO"),
        ("What did the United Nations say?", "org:UN"),
        ("What did Tokyo say?", "country:JP"),
        ("What did the Germans say?", "country:DE"),
        ("What did Ukrainians say?", "country:UA"),
        ("What did Ankara say?", "country:TR"),
    ],
)
def test_questions_name_their_party(resolver: EntityResolver, question: str, entity_id: str) -> None:
    assert ids(resolver, question) == [entity_id]


def test_lower_case_questions_are_matched_without_case(resolver: EntityResolver) -> None:
    assert ids(resolver, "what did poland say?") == ["country:PL"]
    assert ids(resolver, "What did poland say?") == ["country:PL"]
    assert ids(resolver, "what did the uk and nato say") == ["country:GB", "org:NATO"]
    assert ids(resolver, "tell us what they said") == []  # "us" is a word, not the US


def test_case_matters_in_running_text(resolver: EntityResolver) -> None:
    text = "Officials told us the US and China would meet, while traders bought fine china and a turkey."
    assert ids(resolver, text) == ["country:US", "country:CN"]


def test_other_places_that_contain_a_country_name(resolver: EntityResolver) -> None:
    text = (
        "Talks in New Mexico and Northern Ireland, a trip to the North Pole, Guinea-Bissau and "
        "Papua New Guinea, with Chad Smith and Jordan Peterson. Latin American leaders met at the Pan American "
        "Health Organization."
    )
    assert ids(resolver, text) == ["country:GW", "country:PG"]


def test_names_broken_over_lines_are_found(resolver: EntityResolver) -> None:
    text = "exports to the United\nStates rose"
    (mention,) = resolver.find(text)
    assert mention.entity.id == "country:US"
    assert text[mention.start : mention.end] == mention.surface == "United\nStates"


def test_seed_article_mentions(resolver: EntityResolver) -> None:
    text = SEED.read_text(encoding="utf-8")
    mentions = resolver.find(text)
    for m in mentions:
        assert text[m.start : m.end] == m.surface
    by_surface = {m.surface: m.entity.id for m in mentions}
    assert by_surface["Polish"] == "country:PL"
    assert by_surface["Lithuanian"] == "country:LT"
    assert by_surface["European Commission"] == "org:EC"
    assert by_surface["Nato"] == "org:NATO"
    assert by_surface["UN"] == "org:UN"
    assert by_surface["Greenland"] == "country:GL"
    joint = text.index("leaders of France")
    listed = [m.entity.id for m in mentions if joint < m.start < joint + 90]
    assert listed == [f"country:{c}" for c in ("FR", "DE", "IT", "PL", "ES", "GB", "DK")]


def test_surface_forms_cover_names_demonyms_and_capital(resolver: EntityResolver) -> None:
    forms = resolver.surface_forms("country:PL")
    assert forms[0] == "Poland"
    assert {"Polish", "Pole", "Poles", "Warsaw"} <= set(forms)
    assert {"UK", "Britain", "British", "London"} <= set(resolver.surface_forms("country:GB"))
    assert {"EU", "European Union", "Brussels"} <= set(resolver.surface_forms("org:EU"))


def test_every_surface_form_finds_its_own_entity(resolver: EntityResolver) -> None:
    raw = json.loads((REPO / "indexer" / "data" / "entities.json").read_text(encoding="utf-8"))
    misses = []
    for row in raw["entities"]:
        for form in resolver.surface_forms(row["id"]):
            text = f"Reports from {form} today."
            found = resolver.find(text)
            if not any(m.entity.id == row["id"] and m.surface == form for m in found):
                misses.append((row["id"], form))
    assert misses == []


def test_parents_link_bodies_to_their_organisation(resolver: EntityResolver) -> None:
    assert resolver.parents("org:EC") == ("org:EU",)
    assert resolver.parents("country:PL") == ()


def test_get_and_lookup(resolver: EntityResolver) -> None:
    assert resolver.get("country:PL") == Entity("country:PL", "Poland", "country")
    assert resolver.lookup("Poles") == resolver.get("country:PL")
    assert resolver.lookup("Atlantis") is None
    with pytest.raises(KeyError, match="country:PL"):
        resolver.get("country:XX")


def test_a_custom_resolver() -> None:
    acme = Entity("org:ACME", "Acme Union", "organisation")
    resolver = EntityResolver([acme], {"org:ACME": ["Acme Union", "AU"]})
    assert [m.entity for m in resolver.find("The AU and the Acme Union met.")] == [acme, acme]
    with pytest.raises(ValueError, match="unknown entity id"):
        EntityResolver([acme], {"org:OTHER": ["Other"]})


@pytest.mark.skipif(not REUTERS.exists(), reason=f"{REUTERS} not present")
def test_reuters_sample_spans_are_inside_the_text(resolver: EntityResolver) -> None:
    with REUTERS.open(encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for _, line in zip(range(200), handle, strict=False)]
    total = 0
    for text in texts:
        for m in resolver.find(text):
            assert 0 <= m.start < m.end <= len(text)
            assert text[m.start : m.end] == m.surface
            total += 1
    assert total > 200


def test_mixed_case_questions_also_match_lower_case_names(resolver: EntityResolver) -> None:
    assert ids(resolver, "What did poland say about the EU?") == ["country:PL", "org:EU"]


def test_every_institution_form_finds_its_own_institution(resolver: EntityResolver) -> None:
    from indexer.data.institutions import INSTITUTIONS

    misses = []
    for institution in INSTITUTIONS:
        for form in institution.forms:
            found = resolver.find(f"Reports from {form} today.")
            if not any(m.entity.id == institution.id and m.surface == form for m in found):
                misses.append((institution.id, form))
    assert misses == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Tories said", [("party:GB-CON", "Tories")]),
        ("Lib Dem spokesman", [("party:GB-LD", "Lib Dem")]),
        ("Japan's Labour Ministry said", [("country:JP", "Japan")]),
        ("Social Democrats said", []),
        ("Brazil's Congress voted", [("country:BR", "Brazil")]),
        ("The Fed said", [("bank:US-FED", "Fed")]),
        ("Bonn said, Peking said", [("country:DE", "Bonn"), ("country:CN", "Peking")]),
        ("The Beijing News reported", [("news:BEIJINGNEWS", "The Beijing News")]),
    ],
)
def test_parties_bodies_seats_and_news_organisations(
    resolver: EntityResolver, text: str, expected: list[tuple[str, str]]
) -> None:
    assert [(m.entity.id, m.surface) for m in resolver.find(text)] == expected


def test_central_banks_and_government_bodies_speak_for_their_country(resolver: EntityResolver) -> None:
    assert resolver.parents("bank:DE-BUBA") == ("country:DE",)
    assert resolver.parents("gov:JP-MITI") == ("country:JP",)
    assert resolver.parents("party:GB-CON") == ()  # an opposition party is not the country speaking
    assert resolver.parents("news:XINHUA") == ()


def test_a_one_word_body_name_heading_another_name_is_not_that_body(resolver: EntityResolver) -> None:
    text = "Jay Moyo, general secretary of the Congress of Zambian Trade Unions, spoke after Congress voted."
    assert ids(resolver, text) == ["country:ZM", "gov:US-CONGRESS"]  # the second "Congress" only


@pytest.mark.parametrize(
    "text",
    [
        "talks with the Paris Club of creditor governments",
        "Japan Airlines said profits rose",
        "the Tokyo Stock Exchange",
    ],
)
def test_a_place_heading_another_name_is_not_the_country(resolver: EntityResolver, text: str) -> None:
    assert ids(resolver, text) == []
