"""The HTML the page builds from document text: highlights land on the right characters, nothing is markup."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from search_api.contract import Context, ContextPassage, EntityRef, SearchHit, Span, Speaker, Why
from tests.ui.fakes import TUSK, TUSK_SENTENCE, TUSK_TEXT, hit
from ui.render import (
    card_html,
    chips_html,
    context_html,
    escape_text,
    highlight_html,
    merge_spans,
    score_fraction,
    speaker_label,
    why_label,
)

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def visible_text(fragment: str) -> str:
    """What a browser shows for a fragment: tags dropped, ``<br>`` as newline, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment.replace("<br>", "\n")))


def marked(fragment: str) -> list[str]:
    """The visible text of each ``<mark>``."""
    return [visible_text(m) for m in re.findall(r"<mark>(.*?)</mark>", fragment)]


def test_highlight_wraps_exactly_the_answering_sentence() -> None:
    start = TUSK_TEXT.index(TUSK_SENTENCE)
    out = highlight_html(TUSK_TEXT, [Span(start=start, end=start + len(TUSK_SENTENCE))])
    assert marked(out) == [TUSK_SENTENCE]
    assert visible_text(out) == TUSK_TEXT


def test_script_and_img_tags_become_text() -> None:
    text = f"Before {SCRIPT} middle {IMG} after"
    out = highlight_html(text, [Span(start=0, end=len(text))])
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert visible_text(out) == text


def test_highlight_inside_a_tag_does_not_produce_markup() -> None:
    text = f"x {SCRIPT} y"
    out = highlight_html(text, [Span(start=3, end=10)])  # "script>" cut in the middle of the tag
    assert "<script" not in out
    assert marked(out) == [text[3:10]]


def test_markdown_and_streamlit_directives_are_neutralised() -> None:
    text = "*bold* _it_ [link](javascript:alert(1)) `code` $x^2$ :red[hot] ~~gone~~ a|b \\n"
    out = escape_text(text)
    for char in "*_[]`$:~|\\":
        assert char not in out, char
    assert visible_text(out) == text


def test_newlines_become_line_breaks_so_the_html_stays_one_block() -> None:
    out = escape_text("line one\n\n<b>line two</b>\r\n")
    assert "\n" not in out and "\r" not in out
    assert out.count("<br>") == 3
    assert "<b>" not in out


def test_quotes_are_escaped_for_attributes() -> None:
    chips = chips_html([Speaker(speaker='Eve" onmouseover="alert(1)', affiliation_names=['x" y'])], [])
    assert 'onmouseover="' not in chips
    assert "&quot;" in chips


def test_out_of_range_and_overlapping_highlights_are_tolerated() -> None:
    text = "abcdefghij"
    spans = [Span(start=s, end=e) for s, e in [(8, 50), (-5, 2), (1, 4), (6, 6), (9, 3)]]
    assert merge_spans(spans, len(text)) == [(0, 4), (8, 10)]
    out = highlight_html(text, spans)
    assert marked(out) == ["abcd", "ij"]
    assert visible_text(out) == text


def test_no_highlights_leaves_the_text_plain() -> None:
    assert highlight_html("a < b", []) == "a &lt; b"


@given(
    text=st.text(max_size=200),
    spans=st.lists(st.tuples(st.integers(-10, 250), st.integers(-10, 250)), max_size=6),
)
def test_any_text_survives_escaping_and_highlighting(text: str, spans: list[tuple[int, int]]) -> None:
    out = highlight_html(text, [Span(start=s, end=e) for s, e in spans])
    # The only tags are ours; the visible text is the document text exactly.
    assert set(re.findall(r"<(/?\w+)", out)) <= {"mark", "/mark", "br"}
    assert visible_text(out) == text.replace("\r", "")
    merged = merge_spans([Span(start=s, end=e) for s, e in spans], len(text))
    assert marked(out) == [text[s:e].replace("\r", "") for s, e in merged]


def test_card_shows_rank_title_section_score_people_and_highlight() -> None:
    card = card_html(hit(rank=2, score=0.45), top_score=0.9)
    assert '<span class="ss-rank">2</span>' in card
    assert "US backs security guarantees for Ukraine" in card
    assert "Future of Europe at stake" in card
    assert "width:50%" in card
    assert "Donald Tusk · Polish Prime Minister" in card
    assert "Poland" in card and "United Kingdom" in card
    assert marked(card) == [TUSK_SENTENCE]


def test_card_escapes_the_title_and_section_too() -> None:
    card = card_html(hit(title=SCRIPT, section=IMG, text=SCRIPT, highlights=()), top_score=1.0)
    assert "<script" not in card and "<img" not in card


def test_score_fraction_is_relative_to_the_best_and_bounded() -> None:
    assert score_fraction(0.5, 1.0) == 0.5
    assert score_fraction(2.0, 1.0) == 1.0
    assert score_fraction(-0.3, 0.9) == 0.0
    assert score_fraction(-0.2, -0.2) == 1.0  # dense scores can all be negative


def test_speaker_label_skips_a_missing_title() -> None:
    assert speaker_label(TUSK) == "Donald Tusk · Polish Prime Minister"
    assert speaker_label(Speaker(speaker="Anonymous")) == "Anonymous"


def test_speaker_label_does_not_repeat_a_title_the_name_holds() -> None:
    group = Speaker(speaker="leaders of France, Germany and Poland", title="leaders")
    assert speaker_label(group) == "leaders of France, Germany and Poland"


def test_many_entities_collapse_into_a_counted_chip() -> None:
    entities = [EntityRef(id=f"country:{i}", name=f"Country {i}") for i in range(9)]
    chips = chips_html([], entities, max_entities=6)
    assert chips.count("ss-chip-entity") == 7
    assert ">+3</span>" in chips
    assert 'title="Country 6, Country 7, Country 8"' in chips


def test_chips_are_empty_without_people_or_entities() -> None:
    assert chips_html([], []) == ""
    assert 'title="country&#58;PL"' in chips_html([], [EntityRef(id="country:PL", name="Poland")])  # id as tooltip


def test_card_says_why_a_hit_was_lifted_when_the_api_says() -> None:
    why = Why(speaker="Jacques Chirac", verb="said", title="French president", path=["France"])
    card = card_html(hit(why=why), top_score=0.9)
    assert "Why&#58; Jacques Chirac -&gt; French president -&gt; France, said" in card
    assert "ss-why" not in card_html(hit(), top_score=0.9)


def test_why_names_each_step_once() -> None:
    why = Why(speaker="Donald Tusk", verb="warned", title="Prime Minister", path=["prime minister", "Poland"])
    assert why_label(why) == "Why: Donald Tusk -> Prime Minister -> Poland, warned"


def test_context_marks_the_hit_and_shows_each_section_once() -> None:
    context = Context(
        doc_id="d",
        title="T",
        passages=[
            ContextPassage(passage_id=1, position=0, text="before", section="Intro"),
            ContextPassage(passage_id=2, position=1, text="the <hit>", section="Intro", is_hit=True),
            ContextPassage(passage_id=3, position=2, text="after", section="Next"),
        ],
    )
    hit = SearchHit(rank=1, score=1.0, passage_id=2, passages=[2], doc_id="d", title="T", text="the <hit>",
                    highlights=[Span(start=4, end=9)])
    out = context_html(context, hit)
    assert out.count("Intro") == 1 and out.count("Next") == 1
    assert '<div class="ss-ctx-p ss-ctx-hit">the <mark>&lt;hit&gt;</mark></div>' in out
    assert visible_text(out).index("before") < visible_text(out).index("after")


def test_context_marks_every_passage_of_the_hit_and_moves_its_highlight_there() -> None:
    context = Context(
        doc_id="d",
        title="T",
        passages=[
            ContextPassage(passage_id=1, position=0, text="Lead.", is_hit=True),
            ContextPassage(passage_id=2, position=1, text="Quote here.", is_hit=False),
            ContextPassage(passage_id=3, position=2, text="after", is_hit=False),
        ],
    )
    hit = SearchHit(rank=1, score=1.0, passage_id=1, passages=[1, 2], doc_id="d", title="T",
                    text="Lead.\n\nQuote here.", highlights=[Span(start=7, end=18)])
    out = context_html(context, hit)
    assert '<div class="ss-ctx-p ss-ctx-hit">Lead.</div>' in out
    assert '<div class="ss-ctx-p ss-ctx-hit"><mark>Quote here.</mark></div>' in out
    assert '<div class="ss-ctx-p">after</div>' in out


def test_cards_show_the_date_and_the_pdf_page() -> None:
    from search_api.contract import SearchHit
    from ui.render import card_html

    base = {"rank": 1, "score": 0.5, "passage_id": 1, "doc_id": "r.pdf", "title": "Report", "text": "Text."}
    assert "2026-03-14 · page 3" in card_html(SearchHit(**base, published="2026-03-14", page=3), 0.5)
    assert "ss-meta" not in card_html(SearchHit(**base), 0.5)


def test_a_card_shows_the_paragraphs_of_an_answer_apart() -> None:
    from search_api.contract import SearchHit
    from ui.render import card_html

    hit = SearchHit(rank=1, score=0.5, passage_id=1, passages=[1, 2], doc_id="d", title="T",
                    text="Lead <b>.\n\nQuote\nwrapped.", highlights=[Span(start=11, end=25)])
    out = card_html(hit, 0.5)
    assert "Lead &lt;b&gt;.<br><br><mark>Quote<br>wrapped.</mark>" in out
