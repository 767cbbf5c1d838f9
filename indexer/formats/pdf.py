"""PDF files through pypdfium2 (PDFium): text per page in column reading order, running headers dropped.

Pages are joined by a blank line, so no paragraph (and so no passage) runs across a page break, and each page's
start offset is kept in ``metadata["page_starts"]`` for :func:`indexer.formats.pages.page_of`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pypdfium2 as pdfium  # type: ignore[import-untyped]  # no stubs shipped

from indexer.formats import Extracted, Limits
from indexer.formats.dates import from_pdf_date
from indexer.formats.pages import join_pages
from indexer.formats.pdf_layout import Line, Segment, margin_key, paragraphs, reading_order

_PREFIX_CHARS = 12  # enough of a rectangle's text to find where it starts in the page text
REPEAT_SHARE = 0.5  # a margin line on at least half the pages (and two) is a running header or footer


def extract(data: bytes, limits: Limits) -> Extracted | str:
    """Extract a PDF's text page by page, with its page starts, title, author and creation date."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        return _open_error(err)
    try:
        count = len(document)
        if count > limits.max_pages:
            return f"the PDF has {count:,} pages, over the limit of {limits.max_pages:,}; split it to index it"
        pages = [_page_lines(document, index) for index in range(count)]
        properties = document.get_metadata_dict(skip_empty=True)
    except pdfium.PdfiumError as err:
        return f"corrupt PDF: {err}; repair or re-save it to index it"
    finally:
        document.close()
    keep = _drop_running_lines(pages)
    texts = ["\n\n".join(paragraphs(lines)) for lines in keep]
    if not any(text.strip() for text in texts):
        return "no text layer (scanned?); run OCR on it (for example ocrmypdf) to index it"
    text, starts = join_pages(texts)
    if len(text) > limits.max_bytes:
        return f"the PDF's text is {len(text):,} characters, over the limit of {limits.max_bytes:,}"
    return Extracted(text, _str(properties.get("Title")), _metadata(properties, count, starts))


def _open_error(err: Exception) -> str:
    message = str(err)
    if "password" in message.lower():
        return "encrypted PDF (password-protected); save an unprotected copy to index it"
    return f"corrupt or truncated PDF ({message}); repair or re-save it to index it"


def _page_lines(document: pdfium.PdfDocument, index: int) -> tuple[list[Line], float]:
    page = document[index]
    textpage = page.get_textpage()
    try:
        return reading_order(_segments(textpage)), page.get_height()
    finally:
        textpage.close()
        page.close()


def _segments(textpage: pdfium.PdfTextPage) -> list[Segment]:
    """PDFium's text rectangles (runs of text on one line) with their text.

    A rectangle's text is the page text from its first character to the next rectangle's: PDFium makes the
    rectangles in character order, and finding one character by position is far cheaper than asking for the
    text inside each box. A rectangle whose first character is not found asks for its box's text instead.
    """
    text = textpage.get_text_range()
    rects = [textpage.get_rect(number) for number in range(textpage.count_rects())]
    starts: list[int | None] = []
    cursor = 0
    for left, bottom, right, top in rects:
        # Any character of the line may be the nearest to its left edge (a quote mark sits above the middle).
        start = textpage.get_index(left + 0.5, (bottom + top) / 2, 1.0, (top - bottom) / 2 + 1)
        if not isinstance(start, int) or not cursor <= start < len(text):
            piece = textpage.get_text_bounded(left, bottom, right, top).strip()[:_PREFIX_CHARS]
            found = text.find(piece, cursor) if piece else -1
            start = found if found >= 0 else None
        if start is not None:
            cursor = start
        starts.append(start)
    segments = []
    for number, (left, bottom, right, top) in enumerate(rects):
        start = starts[number]
        if start is None:  # its text, not found, stays with the rectangle before it
            continue
        end = next((s for s in starts[number + 1 :] if s is not None), len(text))
        piece = " ".join(text[start:end].split())
        if piece:
            segments.append(Segment(left, bottom, right, top, piece))
    return segments


def _drop_running_lines(pages: list[tuple[list[Line], float]]) -> list[list[Line]]:
    """Each page's lines without the headers and footers repeated in the margins of many pages."""
    keys = [[margin_key(line, height) for line in lines] for lines, height in pages]
    counts = Counter(key for page_keys in keys for key in set(page_keys) if key)
    repeated = {key for key, n in counts.items() if n >= 2 and n >= REPEAT_SHARE * len(pages)}
    return [
        [line for line, key in zip(lines, page_keys, strict=True) if key not in repeated]
        for (lines, _), page_keys in zip(pages, keys, strict=True)
    ]


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _metadata(properties: dict[str, Any], count: int, starts: list[int]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"pages": count, "page_starts": starts}
    author = _str(properties.get("Author"))
    if author:
        metadata["author"] = author
    published = from_pdf_date(properties.get("CreationDate"))
    if published:
        metadata["published"] = published
    return metadata
