"""Reading order for a PDF page from its text segments: columns one after another, then paragraphs.

Pure geometry, no PDF library: segments (a run of text on one line, with its box in PDF points, y upwards) are
put in columns split at vertical gutters that no segment crosses, read top-down column by column; segments that
span a gutter (a headline across both columns) cut the page into bands read in turn.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MIN_GUTTER = 12.0  # points of empty width between two columns
SPANNING_SHARE = 0.6  # a segment wider than this share of the text's width is not used to find gutters
MIN_COLUMN_LINES = 2
MARGIN_SHARE = 0.08  # top and bottom 8% of a page height: where running headers and footers sit
_DIGITS_RE = re.compile(r"\d+")
_SPACES_RE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text on one line: ``left, bottom, right, top`` in points, y growing upwards."""

    left: float
    bottom: float
    right: float
    top: float
    text: str


@dataclass(frozen=True, slots=True)
class Line:
    """Segments of one column that share a baseline, left to right; ``block`` numbers the column or band."""

    text: str
    top: float
    bottom: float
    block: int


def _gutters(segments: Sequence[Segment]) -> list[tuple[float, float]]:
    left = min(s.left for s in segments)
    right = max(s.right for s in segments)
    narrow = sorted((s.left, s.right) for s in segments if s.right - s.left <= SPANNING_SHARE * (right - left))
    gutters: list[tuple[float, float]] = []
    if not narrow:
        return gutters
    covered = narrow[0][1]
    for start, end in narrow[1:]:
        if start - covered >= MIN_GUTTER:
            gutters.append((covered, start))
        covered = max(covered, end)
    return [  # a column holds a few lines: one stray box (a page number at the right) makes no column
        (start, end)
        for start, end in gutters
        if sum(s.right <= start for s in segments) >= MIN_COLUMN_LINES
        and sum(s.left >= end for s in segments) >= MIN_COLUMN_LINES
    ]


def _column(segment: Segment, gutters: Sequence[tuple[float, float]]) -> int | None:
    """The column index of a segment, or None when it crosses a gutter."""
    column = 0
    for gap_start, gap_end in gutters:
        if segment.right <= gap_start + 1:
            return column
        if segment.left < gap_end - 1:
            return None
        column += 1
    return column


def _lines_of(segments: list[Segment], block: int) -> list[Line]:
    """Segments of one column or band joined into lines, top to bottom."""
    lines: list[Line] = []
    current: list[Segment] = []
    for segment in sorted(segments, key=lambda s: (-s.top, s.left)):
        if current and segment.top < current[0].bottom + 0.5 * (current[0].top - current[0].bottom):
            lines.append(_line(current, block))
            current = []
        current.append(segment)
    if current:
        lines.append(_line(current, block))
    return lines


def _line(segments: list[Segment], block: int) -> Line:
    ordered = sorted(segments, key=lambda s: s.left)
    text = " ".join(s.text for s in ordered)
    return Line(text, max(s.top for s in ordered), min(s.bottom for s in ordered), block)


def reading_order(segments: Sequence[Segment]) -> list[Line]:
    """The page's lines in reading order: band by band, and within a band column by column."""
    if not segments:
        return []
    gutters = _gutters(segments)
    columns = [_column(s, gutters) for s in segments]
    ordered = sorted(zip(segments, columns, strict=True), key=lambda item: -item[0].top)
    lines: list[Line] = []
    band: list[list[Segment]] = [[] for _ in range(len(gutters) + 1)]
    block = 0

    def flush() -> None:
        nonlocal block, band
        for column_segments in band:
            if column_segments:
                lines.extend(_lines_of(column_segments, block))
                block += 1
        band = [[] for _ in range(len(gutters) + 1)]

    spanning: list[Segment] = []
    for segment, column in ordered:
        if column is None:
            spanning.append(segment)
            continue
        if spanning:
            flush()
            lines.extend(_lines_of(spanning, block))
            block += 1
            spanning = []
        band[column].append(segment)
    flush()
    if spanning:
        lines.extend(_lines_of(spanning, block))
    return lines


def margin_key(line: Line, page_height: float) -> str | None:
    """A page-number-blind key for a line in the top or bottom margin (a running header or footer), else None."""
    if line.bottom < MARGIN_SHARE * page_height or line.top > (1 - MARGIN_SHARE) * page_height:
        return _SPACES_RE.sub(" ", _DIGITS_RE.sub("#", line.text)).strip().lower()
    return None


def paragraphs(lines: Sequence[Line]) -> list[str]:
    """Lines joined into paragraphs: a new one at a new block or a gap taller than a line's height.

    A word hyphenated at a line end is joined again ("extra-" + "ordinary" = "extraordinary").
    """
    heights = [line.top - line.bottom for line in lines if line.top > line.bottom]
    height = statistics.median(heights) if heights else 0.0
    result: list[list[str]] = []
    previous: Line | None = None
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        gap = previous.bottom - line.top if previous else 0.0
        if previous is None or line.block != previous.block or gap > 0.9 * height or gap < -height:
            result.append([text])
        else:
            result[-1].append(text)
        previous = line
    return [_join_lines(parts) for parts in result]


_HYPHENS = "-\u00ad\ufffe\x02"  # PDFium marks a hyphen it takes for a line-end break as U+FFFE or \x02


def _join_lines(parts: Sequence[str]) -> str:
    joined = parts[0]
    for part in parts[1:]:
        hyphenated = len(joined) > 1 and joined[-1] in _HYPHENS and joined[-2].isalpha()
        if hyphenated and part[:1].islower():  # "extra-" + "ordinary": a word broken at the line end
            joined = joined[:-1] + part
        elif hyphenated and part[:1].isalnum():  # "Franco-" + "German": a hyphen that belongs to the text
            joined = joined[:-1] + "-" + part
        else:
            joined = f"{joined} {part}"
    return joined.replace("\ufffe", "-").replace("\x02", "-").replace("\u00ad", "")
