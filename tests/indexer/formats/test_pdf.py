"""PDF: columns read one after the other, running headers gone, hyphenation joined, pages kept and exact."""

from __future__ import annotations

import io
import re

import pytest

from indexer.formats import Extracted, extract
from indexer.formats.pages import page_of
from tests.indexer.formats.fixtures import PAGE_FOOTER, PAGE_HEADER, PdfPage, two_column_pdf

pypdfium2 = pytest.importorskip("pypdfium2")
pytest.importorskip("fpdf")

PAGES = [
    PdfPage(
        left=[
            "Grain exports from the northern ports rose sharply in the third quarter as telecommunications "
            "infrastructure improvements cut the paperwork for shipping agents considerably.",
            "Timber shipments followed the same pattern, with internationalisation of the buyers behind most "
            "of the growth in the quarter.",
        ],
        right=[
            "Refrigerated fruit was the exception: counterrevolutionary weather in the south ruined the "
            "harvest and shipments fell by a fifth.",
            "Analysts expect the fruit trade to recover next year if the rains return on time.",
        ],
    ),
    PdfPage(
        left=["Port fees were unchanged for the year, the harbour authority said in its annual statement."],
        right=["The authority plans to dredge the eastern channel so that larger container vessels can berth."],
    ),
    PdfPage(
        left=["Employment at the docks reached its highest level in a decade according to union figures."],
        right=["Night shifts were limited to three a week under the new agreement signed in November."],
    ),
]
LONG_WORDS = ("telecommunications", "internationalisation", "counterrevolutionary", "considerably")


def normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    return two_column_pdf(PAGES, interleave=True, title="Harbour quarterly")


@pytest.fixture(scope="module")
def extracted(pdf_bytes: bytes) -> Extracted:
    result = extract(".pdf", pdf_bytes)
    assert isinstance(result, Extracted), result
    return result


def test_the_fixture_interleaves_columns_and_hyphenates(pdf_bytes: bytes) -> None:
    """Guards the fixture itself: a naive reading mixes the columns and words are split at line ends."""
    document = pypdfium2.PdfDocument(pdf_bytes)
    raw = document[0].get_textpage().get_text_range()
    assert "Grain exports" in raw and "Refrigerated fruit" in raw
    first_line = raw.splitlines()[2]
    assert "Grain" in first_line and "Refrigerated" in first_line  # one line from each column
    assert re.search("[a-z][-\ufffe]\\s", raw), "no word is hyphenated at a line end in the fixture"


def test_columns_are_read_one_after_the_other(extracted: Extracted) -> None:
    text = normalise(extracted.text)
    for page in PAGES:
        for paragraph in [*page.left, *page.right]:
            assert normalise(paragraph) in text, paragraph
    assert text.index("Timber shipments") < text.index("Refrigerated fruit")


def test_hyphenated_words_are_joined(extracted: Extracted) -> None:
    for word in LONG_WORDS:
        assert word in extracted.text
    assert not re.search("\\w[-\ufffe] \\w", extracted.text)
    assert "\ufffe" not in extracted.text


def test_running_headers_and_footers_are_dropped(extracted: Extracted) -> None:
    assert PAGE_HEADER not in extracted.text
    assert PAGE_FOOTER not in extracted.text


def test_paragraphs_stay_paragraphs(extracted: Extracted) -> None:
    paragraphs = [normalise(p) for p in extracted.text.split("\n\n") if p.strip()]
    assert paragraphs[0] == normalise(PAGES[0].left[0])
    assert len(paragraphs) == sum(len(page.left) + len(page.right) for page in PAGES)


def test_page_of_gives_each_paragraph_its_page(extracted: Extracted) -> None:
    assert extracted.metadata["pages"] == 3
    for number, page in enumerate(PAGES, start=1):
        for paragraph in [*page.left, *page.right]:
            offset = extracted.text.index(" ".join(paragraph.split()[:4]))
            assert page_of(extracted.metadata, offset) == number, paragraph


def test_properties_become_title_author_and_published(extracted: Extracted) -> None:
    assert extracted.title == "Harbour quarterly"
    assert extracted.metadata["author"] == "Jane Analyst"
    assert extracted.metadata["published"].startswith("2026-03-14T09:30:00")


def test_a_pdf_without_text_is_skipped_as_scanned() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 50, style="F")  # a picture of a page, no text layer
    assert extract(".pdf", bytes(pdf.output())) == (
        "no text layer (scanned?); run OCR on it (for example ocrmypdf) to index it"
    )


def test_an_encrypted_pdf_is_skipped_as_encrypted(pdf_bytes: bytes) -> None:
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf_bytes)))
    writer.encrypt(user_password="secret", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    reason = extract(".pdf", buffer.getvalue())
    assert isinstance(reason, str) and reason.startswith("encrypted PDF (password-protected)")


def test_a_truncated_pdf_is_skipped_as_corrupt(pdf_bytes: bytes) -> None:
    reason = extract(".pdf", pdf_bytes[: len(pdf_bytes) // 3])
    assert isinstance(reason, str)
    assert "corrupt or truncated PDF" in reason or reason.startswith("no text layer")


def test_a_pdf_over_the_page_limit_is_skipped(pdf_bytes: bytes) -> None:
    from indexer.formats import Limits

    reason = extract(".pdf", pdf_bytes, Limits(max_pages=2))
    assert reason == "the PDF has 3 pages, over the limit of 2; split it to index it"
