"""Statement attribution: who said what, and for whom."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.attribution import Statement, attribute_statements
from indexer.entities import EntityResolver
from tests import paths

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "000_2ab4845599296aef.txt"
REUTERS = paths.REUTERS

SEVEN = tuple(f"country:{c}" for c in ("FR", "DE", "IT", "PL", "ES", "GB", "DK"))


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_statements(seed_text: str) -> list[Statement]:
    return attribute_statements(seed_text)


def covering(statements: list[Statement], text: str, phrase: str) -> list[Statement]:
    """Statements whose span contains ``phrase``."""
    at = text.index(phrase)
    return [s for s in statements if s.start <= at and at + len(phrase) <= s.end]


def only(statements: list[Statement], text: str, phrase: str) -> Statement:
    found = covering(statements, text, phrase)
    assert len(found) == 1, (phrase, found)
    return found[0]


# --- the seed article ---------------------------------------------------------------------------------------


def test_tusk_speaks_for_poland(seed_text: str, seed_statements: list[Statement]) -> None:
    st = only(seed_statements, seed_text, "remained sceptical about Russia's intentions")
    assert st.speaker == "Donald Tusk"
    assert st.title == "Polish Prime Minister"
    assert st.affiliations == ("country:PL",)
    assert st.verb == "welcomed"


def test_he_said_after_a_quote_goes_to_the_last_speaker(seed_text: str, seed_statements: list[Statement]) -> None:
    st = only(seed_statements, seed_text, "as strong as anyone has ever seen")
    assert st.speaker == "Steve Witkoff"  # not President Donald Trump, named later in the sentence before
    assert st.title == "US special envoy"
    assert st.affiliations == ("country:US",)
    assert seed_text[st.start : st.end].startswith("“Those security protocols")


def test_office_of_a_person_named_earlier(seed_text: str, seed_statements: list[Statement]) -> None:
    st = only(seed_statements, seed_text, "supports the political efforts to establish lasting peace")
    assert st.speaker == "Fabien Mandon"
    assert st.title == "French Chief of Defence Staff"
    assert st.affiliations == ("country:FR",)


def test_joint_statement_names_all_signatories(seed_text: str, seed_statements: list[Statement]) -> None:
    st = only(seed_statements, seed_text, "Greenland belongs to its people")
    assert st.speaker.startswith("leaders of France")
    assert st.affiliations == SEVEN
    follow_up = only(seed_statements, seed_text, "principles of the UN Charter")
    assert follow_up.affiliations == SEVEN  # an unattributed quote continues the statement before it


def test_commission_president_speaks_for_the_commission_and_the_eu(
    seed_text: str, seed_statements: list[Statement]
) -> None:
    st = only(seed_statements, seed_text, "Our goal is clear")
    assert st.speaker == "Ursula von der Leyen"
    assert st.verb == "wrote"
    assert st.title == "European Commission President"
    assert set(st.affiliations) == {"org:EC", "org:EU"}


@pytest.mark.parametrize(
    ("phrase", "speaker", "affiliation"),
    [
        ("We are preparing important political steps", "Volodymyr Zelenskyy", "country:UA"),
        ("15 years had been agreed to", "Volodymyr Zelenskyy", "country:UA"),
        ("future of European security as a whole", "Gitanas Nauseda", "country:LT"),
        ("paves the way for the legal framework", "Keir Starmer", "country:GB"),
        ("cannot be safe without guarantees", "Kyiv", "country:UA"),
        ("exclude Ukraine from military alliances", "Moscow", "country:RU"),
        ("fortress belt in the Donbas", "Russia", "country:RU"),
    ],
)
def test_other_seed_speakers(
    seed_text: str, seed_statements: list[Statement], phrase: str, speaker: str, affiliation: str
) -> None:
    st = only(seed_statements, seed_text, phrase)
    assert (st.speaker, st.affiliations) == (speaker, (affiliation,))


def test_a_scare_quoted_name_is_not_a_statement(seed_text: str, seed_statements: list[Statement]) -> None:
    assert covering(seed_statements, seed_text, "coalition of the willing") == []


def test_pronoun_after_an_unnamed_speaker(seed_text: str, seed_statements: list[Statement]) -> None:
    st = only(seed_statements, seed_text, "what military secrecy allows us to say")
    assert st.speaker == "an adviser to Mr Macron"
    assert st.verb == "added"


# --- synthetic texts: the same mechanisms elsewhere ---------------------------------------------------------


def test_titles_pronouns_and_other_verbs() -> None:
    text = (
        "Japanese Finance Minister Kiichi Miyazawa told reporters the yen was too strong.\n"
        '"We cannot accept a further rise of the yen against the dollar," he added.\n'
        "Brazil's finance ministry warned it would suspend interest payments."
    )
    first, second, third = attribute_statements(text)
    assert (first.speaker, first.title, first.affiliations, first.verb) == (
        "Kiichi Miyazawa",
        "Japanese Finance Minister",
        ("country:JP",),
        "told",
    )
    assert (second.speaker, second.affiliations, second.verb) == ("Kiichi Miyazawa", ("country:JP",), "added")
    assert (third.speaker, third.affiliations, third.verb) == ("Brazil's finance ministry", ("country:BR",), "warned")


def test_quote_whose_speaker_is_named_in_the_next_sentence() -> None:
    text = (
        "Markets were calm on Monday.\n"
        '"The dollar has fallen far enough and we will act if it goes further." That was the view of '
        "West German Bundesbank President Karl Otto Poehl, speaking in Frankfurt."
    )
    statements = attribute_statements(text)
    quote = only(statements, text, "fallen far enough")
    assert quote.speaker == "Karl Otto Poehl"
    assert quote.affiliations == ("country:DE", "bank:DE-BUBA")  # the central bank, and the country it speaks for
    assert "Markets were calm" not in text[quote.start : quote.end]


def test_appositive_title_and_a_spokesman_of_the_same_person() -> None:
    text = (
        "Steve Smith, the Australian trade minister, urged Tokyo to open its beef market. "
        "Mr Smith's spokesman said later that talks would resume in May."
    )
    first, second = attribute_statements(text)
    assert (first.speaker, first.title, first.affiliations, first.verb) == (
        "Steve Smith",
        "Australian trade minister",
        ("country:AU",),
        "urged",
    )
    assert (second.speaker, second.affiliations) == ("Steve Smith", ("country:AU",))


def test_speaker_after_the_verb_and_according_to() -> None:
    text = (
        '"It is a mistake and we will not accept it," said Canadian Prime Minister Justin Trudeau.\n'
        "According to Chinese Foreign Ministry spokeswoman Hua Chunying, Beijing opposes the move."
    )
    first, second, third = attribute_statements(text)
    assert (third.speaker, third.affiliations, third.verb) == ("Beijing", ("country:CN",), "opposes")
    assert (first.speaker, first.title, first.affiliations) == (
        "Justin Trudeau",
        "Canadian Prime Minister",
        ("country:CA",),
    )
    assert (second.speaker, second.affiliations, second.verb) == ("Hua Chunying", ("country:CN",), "According to")


def test_seats_of_government_and_groups() -> None:
    text = (
        "The Kremlin said the talks had failed. Officials in Tokyo said the Bank of Japan intervened. "
        "Foreign ministers of Egypt, Jordan and Saudi Arabia called for a ceasefire."
    )
    kremlin, tokyo, group = attribute_statements(text)
    assert kremlin.affiliations == ("country:RU",)
    assert tokyo.affiliations == ("country:JP",)
    assert group.affiliations == ("country:EG", "country:JO", "country:SA")
    assert group.verb == "called for"


def test_words_inside_quotes_and_non_speakers_are_not_statements() -> None:
    text = (
        "New Zealand Prime Minister Jacinda Ardern arrived in Wellington on Monday.\n"
        "“We want peace, and they want war, our neighbours say,” she said.\n"
        "The index added 5 points. The minister was told about the vote. Demand for oil rose."
    )
    statements = attribute_statements(text)
    # "want" and "say" inside the quote are not verbs here; "she" is the last person named.
    assert [(s.speaker, s.affiliations, s.verb) for s in statements] == [("Jacinda Ardern", ("country:NZ",), "said")]


def test_a_quote_left_open_at_the_end_of_a_paragraph_keeps_later_speakers_whole() -> None:
    text = (
        "Today's statement from the Italian Treasury said:\n"
        '"Nobody denies the existence of G-5 but the accords provided for its enlargement "whenever needed.\'"\n'
        "Italy refused to attend the meeting in Paris.\n"
        'The Italian Treasury said today that Italy was "certain that this time incidents would not occur."'
    )
    statements = attribute_statements(text)
    later = only(statements, text, "certain that this time")
    assert later.speaker.lower() == "the italian treasury" and later.affiliations == ("country:IT",)


def test_statement_round_trips_through_json() -> None:
    st = Statement(
        speaker="Donald Tusk", title="Polish Prime Minister", affiliations=("country:PL",), start=3, end=40, verb="said"
    )
    data = json.loads(json.dumps(st.to_dict()))
    assert Statement.from_dict(data) == st
    with pytest.raises(ValueError, match="affiliations"):
        Statement.from_dict({**data, "affiliations": "country:PL"})


@pytest.mark.skipif(not REUTERS.exists(), reason=f"{REUTERS} not present")
def test_reuters_sample_runs_and_spans_are_inside_the_text() -> None:
    resolver = EntityResolver.default()
    with REUTERS.open(encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for _, line in zip(range(200), handle, strict=False)]
    count = 0
    for text in texts:
        for st in attribute_statements(text, resolver):
            assert 0 <= st.start < st.end <= len(text)
            assert st.speaker.strip() and "\n" not in st.speaker
            for entity_id in st.affiliations:
                resolver.get(entity_id)
            count += 1
    assert count > 100


def test_family_names_possessive_countries_and_named_appositives() -> None:
    text = (
        "Chinese President Xi Jinping met German Chancellor Friedrich Merz in Beijing on Tuesday.\n"
        "Xi said China was ready to deepen cooperation.\n"
        "South Korea's President Lee Jae-myung warned against escalation.\n"
        "The Japanese government's top spokesman, Chief Cabinet Secretary Yoshimasa Hayashi, told a news "
        "conference that Tokyo would respond calmly.\n"
        'Spain\'s Pedro Sanchez called it "a historic day for Europe and for all of us".'
    )
    got = [(s.speaker, s.affiliations) for s in attribute_statements(text)]
    assert got == [
        ("Xi Jinping", ("country:CN",)),
        ("Lee Jae-myung", ("country:KR",)),
        ("Yoshimasa Hayashi", ("country:JP",)),
        ("Pedro Sanchez", ("country:ES",)),
    ]


def test_companies_are_not_titled_people_and_central_banks_speak_for_their_country() -> None:
    text = "General Automation Inc said it arranged a facility. The Bank of Japan said it intervened."
    company, bank = attribute_statements(text)
    assert (company.speaker, company.title, company.affiliations) == ("General Automation Inc", None, ())
    assert bank.affiliations == ("bank:JP-BOJ", "country:JP")


def test_wire_copy_wrapped_lines_keep_names_and_titles_whole() -> None:
    text = (
        "Japanese Finance Minister Kiichi\nMiyazawa opened the meeting.\n"
        '    "We are ready to help," he said.\n'
        "    The loopholes must be closed, Swiss National\nBank Vice-President Markus Lusser said."
    )
    first, second = attribute_statements(text)
    assert (first.speaker, first.affiliations) == ("Kiichi Miyazawa", ("country:JP",))
    assert (second.speaker, second.affiliations) == ("Markus Lusser", ("bank:CH-SNB", "country:CH"))
    assert text[second.start : second.end].startswith("The loopholes")


def test_later_mentions_in_any_case_and_titles_set_off_around_a_name() -> None:
    text = (
        "OPEC has regained its role, acting OPEC Secretary General Fadhil al-Chalabi said.\n"
        "    Al-Chalabi, speaking at a university, said demand would stay flat.\n"
        "    The chairman of the Federal Reserve Board, Paul Volcker, has written to Congress.\n"
        "    Volcker told the committee the proposal might invite retaliation.\n"
        "    Director of public credit Angel Gurria told reporters growth would resume.\n"
        "    Rates are too high, said Gurria, who is Mexico's chief debt negotiator."
    )
    got = [(s.speaker, s.affiliations) for s in attribute_statements(text)]
    assert got[:2] == [("Fadhil al-Chalabi", ("org:OPEC",))] * 2
    assert got[2][0] == "Paul Volcker" and "country:US" in got[2][1]
    assert got[3:] == [("Angel Gurria", ("country:MX",))] * 2


def test_newspapers_places_and_economies_do_not_speak_for_a_country() -> None:
    text = (
        "The Beijing News said 12 cafes were closed.\n"
        "The Cuban economy grew, officials said.\n"
        "Guantanamo Bay said nothing.\n"
        "Kuwait's news agency said the boats were seized."
    )
    got = [(s.speaker, s.affiliations) for s in attribute_statements(text)]
    assert ("The Beijing News", ("news:BEIJINGNEWS",)) in got
    assert all("country:CN" not in affiliations for _, affiliations in got)
    assert all(speaker not in ("The Cuban economy", "Guantanamo Bay") for speaker, _ in got)
    assert ("Kuwait's news agency", ()) in got


def test_an_unqualified_government_speaker_speaks_for_the_country_the_story_is_about() -> None:
    text = (
        "Australia's budget deficit will widen, Treasurer Paul Keating said.\n"
        "    Chrysler president Lee Iacocca said car sales in Australia were slowing.\n"
        "    Australian exporters welcomed the forecast."
    )
    keating, iacocca, *_ = attribute_statements(text)
    assert (keating.speaker, keating.affiliations, keating.implied) == ("Paul Keating", (), ("country:AU",))
    assert (iacocca.speaker, iacocca.implied) == ("Lee Iacocca", ())  # a company's president is no government


def test_the_minister_later_is_the_minister_named_earlier() -> None:
    text = (
        "Spanish farm minister Carlos Romero called for action, sources said.\n"
        "    The minister also said imports must stop.\n"
        "    The official said nothing."
    )
    statements = attribute_statements(text)
    later = only(statements, text, "imports must stop")
    assert (later.speaker, later.affiliations) == ("Carlos Romero", ("country:ES",))
    assert only(statements, text, "said nothing").speaker == "The official"  # no official was named


def test_stance_verbs_and_actions_taken_by_a_government() -> None:
    text = (
        "Chinese authorities closed 12,575 net cafes last year.\n"
        "    South African president Thabo Mbeki has attacked British imperialists.\n"
        "    The company closed two plants."
    )
    got = [(s.speaker, s.affiliations, s.verb) for s in attribute_statements(text)]
    assert got == [
        ("Chinese authorities", ("country:CN",), "closed"),
        ("Thabo Mbeki", ("country:ZA",), "attacked"),
    ]  # a company closing plants takes no party's position


def test_the_one_quoted_as_saying_speaks() -> None:
    text = "Iran's IRNA news agency quoted Foreign Minister Ali Akbar Velayati as saying the boats were spying."
    (st,) = attribute_statements(text)
    assert (st.speaker, st.affiliations, st.verb) == ("Ali Akbar Velayati", (), "as saying")


@pytest.mark.parametrize(
    ("text", "speaker", "verb", "party"),
    [
        (
            "Brazilian Finance Minister Dilson Funaro flatly rejected a suggestion that Brazil seek help.",
            "Dilson Funaro",
            "rejected",
            "country:BR",
        ),
        (
            "Belgian Finance Minister Mark Eyskens warmly welcomed this week's rise in U.S. Prime rates.",
            "Mark Eyskens",
            "welcomed",
            "country:BE",
        ),
    ],
)
def test_a_manner_adverb_between_speaker_and_verb(text: str, speaker: str, verb: str, party: str) -> None:
    [st] = attribute_statements(text)
    assert (st.speaker, st.verb, st.affiliations) == (speaker, verb, (party,))


def test_a_noun_in_ly_is_no_adverb() -> None:
    assert all(st.speaker != "The" for st in attribute_statements("The family said it would appeal the ruling."))


# --- later mentions and titles tied back to the full mention ------------------------------------------------


def test_a_shorter_later_name_is_the_person_introduced_with_a_comma_title() -> None:
    text = (
        "    Trade Commissioner of the EC, Anna Van Dorpe has written to her counterpart.\n"
        '    Van Dorpe told reporters, "There is a growing impatience within the Community."'
    )
    [st] = attribute_statements(text)
    assert st.speaker == "Anna Van Dorpe"
    assert "org:EU" in st.affiliations


def test_a_later_surname_without_the_arabic_article() -> None:
    text = (
        "    The envoy met Kuwaiti Foreign Undersecretary Suleiman Majed al-Rahmani yesterday.\n"
        "    Rahmani condemned the detentions and asked for the sailors to be freed."
    )
    [st] = attribute_statements(text)
    assert (st.speaker, st.affiliations, st.verb) == ("Suleiman Majed al-Rahmani", ("country:KW",), "condemned")


def test_he_said_goes_to_the_person_named_last_by_surname() -> None:
    text = (
        "    Vice-Premier Li Wenjun told a news conference the debt was small.\n"
        "    Finance Minister Zhao Peng said in the budget speech that borrowing would double.\n"
        "    Under Chairman Mao Tse-tung's rule, the country borrowed very little abroad.\n"
        '    Li took the opposite view. "It is not enough for us to rely on our own funds alone," he said.'
    )
    st = only(attribute_statements(text), text, "It is not enough")
    assert st.speaker == "Li Wenjun"  # not Mao, named before "Li took", nor the finance minister


def test_a_lower_case_title_clause_run_into_the_name() -> None:
    text = (
        "Relations will get worse, director general of the Dutch Economics Ministry's trade division "
        "Frans Meerhof said."
    )
    [st] = attribute_statements(text)
    assert (st.speaker, st.affiliations) == ("Frans Meerhof", ("country:NL",))
    assert st.title is not None and st.title.startswith("director general")


def test_a_party_subject_set_off_by_an_apposition_speaks() -> None:
    text = "Kuwait, a target of anger over its backing for Iraq, today rejected charges that its boats were spying."
    [st] = attribute_statements(text)
    assert (st.speaker, st.affiliations, st.verb) == ("Kuwait", ("country:KW",), "rejected")  # not Iraq


def test_a_hyphenated_government_title_takes_the_home_country() -> None:
    text = (
        "    China's foreign debt is rising, officials in China say.\n"
        "    Vice-Premier Li Wenjun told a news conference the debt was small."
    )
    st = only(attribute_statements(text), text, "the debt was small")
    assert (st.affiliations, st.implied) == ((), ("country:CN",))


def test_an_unqualified_ministry_speaks_for_the_party_just_speaking() -> None:
    text = (
        "    Iran, Iran and Iran again: Iranian charges against Kuwait grew.\n"
        "    Kuwait, a target of Iranian anger, today rejected charges that its boats were spying.\n"
        '    "There is no truth in the Iranian accusation about the vessels at all," the Foreign Ministry said.'
    )
    st = only(attribute_statements(text), text, "no truth in the Iranian accusation")
    assert st.implied == ("country:KW",)  # not Iran, the country the text names most


def test_an_unqualified_ministry_far_from_any_party_takes_the_home_country() -> None:
    text = (
        "    Japan's trade surplus grew. Japan's exports rose and Japanese imports fell.\n"
        "    The Finance Ministry said the surplus would shrink."
    )
    st = only(attribute_statements(text), text, "the surplus would shrink")
    assert st.implied == ("country:JP",)


def test_he_said_skips_a_document_that_spoke_in_between() -> None:
    text = (
        "    Finance Ministry State Secretary Hans Obermeier said Bonn takes the pact seriously.\n"
        '    But he noted the official communique said the participants agreed to cooperate. "We are taking this '
        'sentence very seriously," he said.'
    )
    st = only(attribute_statements(text), text, "taking this sentence very seriously")
    assert st.speaker == "Hans Obermeier"  # not "the official communique"


def test_a_news_agency_set_off_by_an_apposition_reports() -> None:
    text = "The Iranian news agency IRNA, received in London, said the troops continued their advance."
    [st] = attribute_statements(text)
    assert st.speaker == "The Iranian news agency IRNA"
    assert not any(a.startswith("country:") for a in st.affiliations)  # it reports; it is not Iran speaking


@pytest.mark.parametrize(
    ("text", "speaker", "title", "party"),
    [
        ("Labour MP Jane Doyle criticised the decision.", "Jane Doyle", "Labour MP", "party:GB-LAB"),
        ("Liberal Democrat MEP Tom Arden warned of delays.", "Tom Arden", "Liberal Democrat MEP", "party:GB-LD"),
    ],
)
def test_a_party_member_of_parliament_is_a_titled_person(text: str, speaker: str, title: str, party: str) -> None:
    [st] = attribute_statements(text)
    assert (st.speaker, st.title, st.affiliations) == (speaker, title, (party,))


def test_two_titled_people_joined_by_and_keep_their_own_titles() -> None:
    text = (
        "    Federal Reserve Chairman Paul Volcker and Japanese Finance Minister Kiichi Miyazawa met on Monday.\n"
        "    Miyazawa said the dollar had fallen far enough."
    )
    st = only(attribute_statements(text), text, "the dollar had fallen far enough")
    assert (st.speaker, st.title, st.affiliations) == ("Kiichi Miyazawa", "Japanese Finance Minister", ("country:JP",))


def test_a_reporting_clause_after_a_name_is_no_title_of_that_name() -> None:
    text = (
        "    The secretary cancelled a trip because of the visit by Japanese Prime Minister Yasuhiro Nakasone, "
        "a Treasury spokesman said.\n"
        '    The spokesman, who asked not to be named, said, "I would not draw any conclusion from it at all."'
    )
    st = only(attribute_statements(text), text, "I would not draw any conclusion")
    assert st.speaker.endswith("spokesman")  # the Treasury spokesman, not Nakasone
    assert "country:JP" not in st.affiliations


def test_an_eu_commissioner_speaks_for_the_commission() -> None:
    [st] = attribute_statements("EC Farm Commissioner Frans Andersen said the plan would cut surpluses.")
    assert st.affiliations == ("org:EU", "org:EC")


def test_a_clause_saying_where_someone_is_gives_no_title_or_party() -> None:
    text = (
        "    OPEC has regained its role, acting OPEC Secretary General Fadhil al-Rawi said.\n"
        '    "It has no choice but to defend the price of oil," said al-Rawi, who is in Caracas for a meeting of '
        "the OPEC Fund Board of Governors."
    )
    st = only(attribute_statements(text), text, "no choice but to defend")
    assert (st.speaker, st.affiliations) == ("Fadhil al-Rawi", ("org:OPEC",))  # not Venezuela


def test_she_is_never_a_company_named_just_before() -> None:
    text = (
        "    Mortgage rates fell, Jane Hollis of the Building Societies Association said.\n"
        "    Rates have been falling all year.\n"
        "    Lenders such as National Westminster Bank Plc cut their rates on Monday.\n"
        '    "Everybody loves an under 10 pct mortgage," she said.'
    )
    st = only(attribute_statements(text), text, "Everybody loves")
    assert st.speaker == "Jane Hollis"


def test_an_economist_at_a_firm_in_a_capital_does_not_speak_for_that_country() -> None:
    text = (
        'Japan\'s Finance Minister Masajuro Shiokawa pledged to fight deflation.\n\n"Tokyo has been promising to beat '
        'deflation for years," said Richard Jerram, chief economist at Macquarie Securities in Tokyo.\n\n'
        '"This is a betrayal," said Holger Schmieding, economist at Bank of America in London.\n\n'
        "IMF chief economist Olivier Blanchard said Britain should slow its spending cuts."
    )
    statements = attribute_statements(text)
    assert only(statements, text, "Tokyo has been promising").affiliations == ()
    assert only(statements, text, "This is a betrayal").affiliations == ()
    assert only(statements, text, "should slow its spending cuts").affiliations == ("org:IMF",)
    assert only(statements, text, "pledged to fight deflation").affiliations == ("country:JP",)


def test_he_said_goes_to_a_person_and_to_the_one_described_as_the_subject() -> None:
    text = (
        "Ukrainian President Volodymyr Zelenskyy renewed his appeal for a no-fly zone.\n\n"
        "Alliance Secretary General Jens Stoltenberg said on Friday that Nato had a responsibility.\n\n"
        "More than 1.5 million people have fled, according to the UN refugee agency.\n\n"
        "The Ukrainian leader, who has stayed in the capital, was scathing about the alliance.\n\n"
        '"If you do not close the sky, you will be responsible for every child killed," he said.'
    )
    statement = only(attribute_statements(text), text, "If you do not close the sky")
    assert statement.speaker == "Volodymyr Zelenskyy"
    assert statement.affiliations == ("country:UA",)


def test_a_party_that_spoke_just_before_is_not_he() -> None:
    text = (
        "Shadow chancellor Oliver Letwin promised tax cuts.\n\nThe Tories say the money would come from savings. "
        "Speaking in Westminster, he accused the chancellor of waste."
    )
    assert only(attribute_statements(text), text, "he accused the chancellor").speaker == "Oliver Letwin"


def test_the_spokesman_and_the_leader_are_the_ones_introduced_earlier() -> None:
    text = (
        "A Kremlin spokesman said the dispute was purely commercial.\n\nUkraine's president ordered talks.\n\n"
        '"Russia cannot subsidise its neighbour forever," the spokesman said.\n\n'
        "Libyan leader Col Muammar Gaddafi vowed to fight on.\n\n"
        "In a speech, the Libyan leader insisted the rebels were misled."
    )
    statements = attribute_statements(text)
    spokesman = only(statements, text, "Russia cannot subsidise")
    assert spokesman.affiliations == ("country:RU",)
    leader = only(statements, text, "the rebels were misled")
    assert (leader.speaker, leader.affiliations) == ("Col Muammar Gaddafi", ("country:LY",))


def test_bodies_named_like_companies_names_like_countries_and_longer_party_names() -> None:
    text = (
        "The European Central Bank has insisted that Greece will not default.\n\n"
        "French Foreign Minister Dominique de Villepin told the Security Council to wait.\n\n"
        "The Democratic Unionist Party said it could not support the deal."
    )
    statements = attribute_statements(text)
    assert "org:ECB" in only(statements, text, "will not default").affiliations
    villepin = only(statements, text, "told the Security Council")
    assert (villepin.speaker, villepin.affiliations) == ("Dominique de Villepin", ("country:FR",))
    assert only(statements, text, "could not support the deal").affiliations == ("party:GB-DUP",)


def test_a_named_official_s_spokesman_speaks_with_the_official_s_voice() -> None:
    text = "Prime Minister Tony Blair arrived in Brussels. Mr Blair's official spokesman said the UK would veto it."
    spokesman = only(attribute_statements(text), text, "the UK would veto it")
    assert (spokesman.speaker, spokesman.title) == ("Tony Blair", "Prime Minister")


def test_a_month_that_is_a_given_name_is_read_as_a_name_only_where_no_date_word_precedes_it() -> None:
    text = (
        "Polish finance minister Jan Kowalski said the deficit would shrink.\n\n"
        "May Ng, an analyst at UBS, said the market would recover.\n\n"
        "In May Britain said it would cut tariffs."
    )
    statements = attribute_statements(text)
    kowalski = only(statements, text, "the deficit would shrink")
    assert (kowalski.speaker, kowalski.affiliations) == ("Jan Kowalski", ("country:PL",))
    assert only(statements, text, "the market would recover").speaker == "May Ng"
    assert only(statements, text, "cut tariffs").speaker == "Britain"


@pytest.mark.parametrize(
    ("published", "party"),
    [("2005-02-01", "party:GB-CON"), ("1990-02-01", "party:GB-LAB"), (None, None)],
)
def test_a_shadow_minister_sits_in_the_official_opposition_of_the_document_date(
    published: str | None, party: str | None
) -> None:
    text = "Britain's budget was attacked in Britain. Shadow chancellor Oliver Letwin said the plan would cost jobs."
    letwin = only(attribute_statements(text, None, published), text, "the plan would cost jobs")
    assert letwin.affiliations == ()
    assert letwin.implied == ((party,) if party else ())


def test_a_shadow_minister_takes_the_party_the_document_states_for_another_shadow_minister() -> None:
    text = (
        "Tory shadow home secretary David Davis said the scheme was flawed.\n\n"
        "Shadow chancellor Oliver Letwin said the plan would cost jobs."
    )
    letwin = only(attribute_statements(text), text, "the plan would cost jobs")
    assert letwin.implied == ("party:GB-CON",)


def test_a_new_speaker_in_a_new_paragraph_speaks_for_the_home_government_not_the_party_just_before() -> None:
    text = (
        "Britain will keep its rebate, Britain's prime minister said. It saves Britain £3bn a year.\n\n"
        "French President Jacques Chirac said the rebate was a thing of the past. The Elysee said talks go on.\n\n"
        "Foreign Secretary Jack Straw told MPs the government would not give way.\n\n"
        "The Conservatives welcomed the stand. The Treasury said the rebate was safe."
    )
    statements = attribute_statements(text)
    straw = only(statements, text, "would not give way")
    assert (straw.speaker, straw.implied) == ("Jack Straw", ("country:GB",))  # not France, speaking just before
    treasury = only(statements, text, "the rebate was safe")
    assert treasury.implied == ("country:GB",)  # a party is no government: not the Conservatives


def test_bracketed_abbreviations_singular_party_names_central_banks_and_prosecutors() -> None:
    text = (
        "The International Monetary Fund (IMF) said growth would slow.\n\n"
        "Conservative leader Michael Howard said Labour had failed.\n\n"
        "Japan's central bank governor Toshihiko Fukui said deflation would end soon.\n\n"
        "Russian prosecutors have charged the oil firm's former boss with fraud.\n\n"
        "A spokesman for the Department of Trade and Industry said the figures were encouraging."
    )
    statements = attribute_statements(text)
    assert only(statements, text, "growth would slow").affiliations == ("org:IMF",)
    assert only(statements, text, "Labour had failed").affiliations == ("party:GB-CON",)
    assert "bank:JP-BOJ" in only(statements, text, "deflation would end").affiliations
    prosecutors = only(statements, text, "with fraud")
    assert (prosecutors.affiliations, prosecutors.verb) == (("country:RU",), "charged")
    assert "gov:GB-DTI" in only(statements, text, "figures were encouraging").affiliations


def test_a_secretary_sits_only_in_a_cabinet_whose_ministers_are_secretaries() -> None:
    japan = (
        "Japan's exports rose. Japan's trade surplus grew and Japanese imports fell.\n\n"
        "Commerce Secretary Malcolm Baldrige said the surplus was too large."
    )
    britain = "Britain's schools need money, Britain's teachers say.\n\nEducation Secretary Ruth Kelly said it would."
    assert only(attribute_statements(japan), japan, "the surplus was too large").implied == ()
    assert only(attribute_statements(britain), britain, "Ruth Kelly said it would").implied == ("country:GB",)


def test_a_surname_that_is_a_title_word_a_short_name_for_a_body_and_a_governor_s_bank() -> None:
    text = (
        "The Bank of England left rates unchanged.\n\n"
        "In its report, the Bank warned that house prices could fall.\n\n"
        '"Household debt is at record levels," Governor Mervyn King said. Mr King added that rates could rise.\n\n'
        "The International Monetary Fund (IMF) cut its forecast. The Fund said growth would slow."
    )
    statements = attribute_statements(text)
    assert only(statements, text, "house prices could fall").affiliations == ("bank:GB-BOE", "country:GB")
    king = only(statements, text, "rates could rise")
    assert (king.speaker, king.title, king.implied) == ("Mervyn King", "Governor", ("bank:GB-BOE", "country:GB"))
    assert only(statements, text, "growth would slow").affiliations == ("org:IMF",)


def test_the_home_country_counts_its_bodies_and_between_equals_is_the_one_the_lead_names() -> None:
    text = (
        "Japan's economy shrank again, the Bank of Japan said.\n\n"
        "Exports to China fell and China's demand slowed.\n\n"
        "The economy minister said the downturn would be short."
    )
    assert only(attribute_statements(text), text, "the downturn would be short").implied == ("country:JP",)
