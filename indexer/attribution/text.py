"""Document structure for attribution: paragraphs, quotes (masked while speakers are read) and sentences."""

from __future__ import annotations

import bisect
import re

from indexer.attribution.vocabulary import FILL
from indexer.passages import split_sentences

_INDENTED = re.compile(r"\n[ \t]+\S")
_SOFT_WRAP = re.compile(r"(?<!\n)\n(?=\S)")


def unwrap_lines(text: str) -> str:
    """The text with soft line wraps inside paragraphs turned into spaces (same length, same offsets).

    Wire copy is hard-wrapped and starts paragraphs with an indent, so "Finance Minister Kiichi\nMiyazawa" is
    one name; in texts without indents every newline ends a paragraph and is kept.
    """
    if not _INDENTED.search(text):
        return text
    return _SOFT_WRAP.sub(" ", text)


def paragraph_breaks(text: str) -> list[int]:
    """Offsets where paragraphs start. Indented texts (wire copy) break on indents, others on each newline."""
    indented = _INDENTED.search(text) is not None
    pattern = r"\n\s*\n|\n(?=[ \t]+\S)" if indented else r"\n+"
    return [m.end() for m in re.finditer(pattern, text)]


def find_quotes(text: str, paragraph_starts: list[int]) -> list[tuple[int, int]]:
    """Quote spans (opening mark, closing mark inclusive), each kept inside its paragraph."""
    spans: list[tuple[int, int]] = []
    bounds = [0, *paragraph_starts, len(text)]
    for p_start, p_end in zip(bounds, bounds[1:], strict=False):
        para = text[p_start:p_end]
        open_at: int | None = None
        straight_open: int | None = None
        for m in re.finditer(r"[“”\"]", para):
            ch, pos = m.group(), p_start + m.start()
            if ch == "“":
                if open_at is None:
                    open_at = pos
            elif ch == "”":
                if open_at is not None:
                    spans.append((open_at, pos))
                    open_at = None
            elif straight_open is None:
                straight_open = pos
            else:
                spans.append((straight_open, pos))
                straight_open = None
        for left in (open_at, straight_open):
            if left is not None:  # left open to the end of the paragraph, as multi-paragraph quotes are
                spans.append((left, p_start + len(para.rstrip()) - 1))
    spans.sort()
    return spans


# An abbreviation in brackets after a name: "The International Monetary Fund (IMF) said".
BRACKETED_ABBREVIATION = re.compile(r"(?<=\w) \([A-Z][A-Za-z&.]{1,9}\)(?=\s)")


def mask_quotes(text: str, quotes: list[tuple[int, int]]) -> str:
    """The text with the words inside quotes, and abbreviations in brackets after a name, blanked out: what is
    left is what speaker phrases are read from."""
    text = BRACKETED_ABBREVIATION.sub(lambda m: " " * len(m.group()), text)
    parts: list[str] = []
    last = 0
    for start, end in quotes:
        if start < last:
            continue
        parts.append(text[last : start + 1])
        parts.append(re.sub(r"\S", FILL, text[start + 1 : end]))
        last = max(end, start + 1)  # a mark left open as a paragraph's last character is its own end
    parts.append(text[last:])
    return "".join(parts)


def inside_span(spans: list[tuple[int, int]], pos: int) -> bool:
    i = bisect.bisect_right(spans, (pos, len(spans) + 10**12)) - 1
    return i >= 0 and spans[i][0] < pos <= spans[i][1]


def document_sentences(
    text: str, paragraph_starts: list[int], quotes: list[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    """Sentences as (start, end, paragraph index): the project's splitter per paragraph, rejoined inside quotes.

    A quoted passage of several sentences stays one sentence, so its speaker after the closing mark covers it.
    """
    sentences: list[tuple[int, int, int]] = []
    bounds = [0, *paragraph_starts, len(text)]
    for index, (p_start, p_end) in enumerate(zip(bounds, bounds[1:], strict=False)):
        first_in_paragraph = len(sentences)
        for s, e in split_sentences(text[p_start:p_end]):
            start, end = p_start + s, p_start + e
            previous_end = sentences[-1][1] if len(sentences) > first_in_paragraph else None
            if previous_end is not None and inside_span(quotes, previous_end - 1) and inside_span(quotes, start):
                sentences[-1] = (sentences[-1][0], end, index)
            else:
                sentences.append((start, end, index))
    return sentences
