"""Files the format tests and the format benchmark write themselves: a two-column PDF, a DOCX, an HTML page."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

PAGE_HEADER = "ACME Quarterly Review"
PAGE_FOOTER = "Confidential draft"


@dataclass(frozen=True)
class PdfPage:
    """Paragraphs of the left and the right column of one page."""

    left: Sequence[str]
    right: Sequence[str]


def fit_column(paragraphs: Sequence[str], max_chars: int = 1600) -> list[str]:
    """The first paragraphs that fit one column of :func:`two_column_pdf` (about 1,600 characters)."""
    kept: list[str] = []
    for paragraph in paragraphs:
        if sum(len(p) for p in kept) + len(paragraph) > max_chars:
            break
        kept.append(paragraph)
    return kept or [paragraphs[0][:max_chars]]


def _wrap(pdf: object, paragraph: str, width: float) -> list[str]:
    """Lines of at most ``width`` points; a long word that does not fit is hyphenated, as typesetters do."""
    measure = pdf.get_string_width  # type: ignore[attr-defined]
    lines: list[str] = []
    line = ""
    for word in paragraph.split():
        candidate = f"{line} {word}".strip()
        if measure(candidate) <= width:
            line = candidate
            continue
        if len(word) >= 10 and line:
            for cut in range(len(word) - 3, 3, -1):
                head = f"{line} {word[:cut]}-"
                if measure(head) <= width:
                    lines.append(head)
                    line = word[cut:]
                    break
            else:
                lines.append(line)
                line = word
            continue
        if line:
            lines.append(line)
        line = word
    if line:
        lines.append(line)
    return lines


def two_column_pdf(pages: Sequence[PdfPage], interleave: bool = True, title: str | None = None) -> bytes:
    """A PDF with two columns a page, a running header and footer with the page number on each page.

    Args:
        pages: The columns' paragraphs.
        interleave: Write the lines row by row across both columns (left line 1, right line 1, ...), the
            content-stream order that makes naive extractors mix the columns.
        title: Set as the document's Title property.
    """
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="A4")
    pdf.set_font("Helvetica", size=10)
    if title:
        pdf.set_title(title)
        pdf.set_author("Jane Analyst")
        pdf.set_creation_date(__import__("datetime").datetime(2026, 3, 14, 9, 30, tzinfo=__import__("datetime").UTC))
    column_width, left_x, right_x, top, leading = 230.0, 50.0, 315.0, 90.0, 13.0
    for number, page in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        pdf.text(50, 40, f"{PAGE_HEADER}   Page {number}")
        pdf.text(50, 810, f"{PAGE_FOOTER} - {number}")
        pdf.set_font("Helvetica", size=10)
        columns = []
        for paragraphs, x in ((page.left, left_x), (page.right, right_x)):
            placed: list[tuple[float, float, str]] = []
            y = top
            for paragraph in paragraphs:
                for line in _wrap(pdf, paragraph, column_width):
                    placed.append((x, y, line))
                    y += leading
                y += leading  # a blank line between paragraphs
            if y > 790:
                raise ValueError(f"page {number}: a column runs past the footer; give it less text (fit_column)")
            columns.append(placed)
        if interleave:
            order = sorted(columns[0] + columns[1], key=lambda item: (item[1], item[0]))
        else:
            order = columns[0] + columns[1]
        for x, y, line in order:
            pdf.text(x, y, line)
    return bytes(pdf.output())


def docx_file(
    title: str, sections: Sequence[tuple[str, Sequence[str]]], table: Sequence[Sequence[str]] = (), author: str = ""
) -> bytes:
    """A Word file: core title and author, a Heading 1 per section with its paragraphs, then a table."""
    import datetime

    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = author
    document.core_properties.created = datetime.datetime(2026, 5, 2, 8, 0, tzinfo=datetime.UTC)
    document.add_heading(title, level=0)
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


NEWS_HTML = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Harbour strike ends after nine days | The Coastal Gazette</title>
<link rel="canonical" href="https://gazette.example/news/2026/harbour-strike-ends">
<meta property="og:site_name" content="The Coastal Gazette">
<meta property="og:title" content="Harbour strike ends after nine days">
<meta name="author" content="Maria Lindqvist">
<meta property="article:published_time" content="2026-11-03T07:45:00+01:00">
</head><body>
<div id="cookie-banner">We use cookies to improve your experience. Accept all cookies or manage preferences.</div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather forecast</a></li></ul></nav></header>
<main><article>
<h1>Harbour strike ends after nine days</h1>
<p class="byline">By Maria Lindqvist, 3 November 2026</p>
<p>Dock workers in Port Elling voted on Monday to accept a new wage offer, ending a nine-day strike that had
left more than forty container ships waiting at anchor outside the harbour.</p>
<p>The union said the agreement raises pay by six percent over two years and limits night shifts to three a week.
The harbour authority expects normal traffic to resume by Thursday.</p>
<h2>Backlog of ships</h2>
<p>Shipping agents warned that clearing the backlog of vessels could take until the end of the month, as cranes
run around the clock to unload grain, timber and refrigerated fruit.</p>
<p>Several importers had diverted cargo to ports further south during the dispute, adding days to deliveries of
fresh produce to supermarkets in the region.</p>
<h2>What the vote means</h2>
<p>The vote passed with seventy-one percent in favour, according to union officials who counted ballots overnight
in the dockside canteen.</p>
</article></main>
<aside class="related"><h3>Related articles</h3><ul>
<li><a href="/a">Ferry timetable changes announced for winter season</a></li>
<li><a href="/b">Council approves new cycle lanes along the seafront promenade</a></li></ul></aside>
<footer><p>Copyright 2026 The Coastal Gazette. All rights reserved. Privacy policy. Terms of use.</p></footer>
</body></html>
"""


def html_page(headline: str, paragraphs: Sequence[str]) -> str:
    """A news page: cookie banner, navigation, the article, a related list and a footer around it."""
    from html import escape

    body = "\n".join(f"<p>{escape(paragraph)}</p>" for paragraph in paragraphs)
    return (
        NEWS_HTML.split("<main>")[0].replace("Harbour strike ends after nine days", escape(headline))
        + f"<main><article>\n<h1>{escape(headline)}</h1>\n{body}\n</article></main>\n"
        + NEWS_HTML.split("</main>")[1]
    )
