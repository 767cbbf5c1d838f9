"""Split documents into passages that follow paragraphs (indexer.paragraphs) and whole sentences (indexer.sentences).

A passage is a paragraph, or, when a paragraph is longer than the model takes, a run of its whole sentences.
Short heading lines are not passages: they become the ``section`` of the passages under them. Token counts come
from the model's own tokenizer through a callable, so nothing is ever truncated silently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from indexer.formats.pages import page_of
from indexer.paragraphs import Layout, leading_heading
from indexer.sentences import split_sentences, strip_span

if TYPE_CHECKING:
    from indexer.documents import Document

__all__ = ["MAX_PASSAGE_CHARS", "Passage", "TokenCounter", "leading_heading", "split_document", "split_sentences"]

TokenCounter = Callable[[Sequence[str]], list[int]]
"""Returns, for each text, its token count including the special tokens the model adds."""

MAX_PASSAGE_CHARS = 5_000
"""No passage is longer than this. A tokenizer may read a long run without spaces as one unknown token, so the
token limit alone would let a 200,000-character "word" through as one passage."""


@dataclass(frozen=True)
class Passage:
    """A stripped slice ``text == document.text[start:end]`` of one document."""

    doc_id: str
    position: int
    section: str | None
    start: int
    end: int
    text: str


# --------------------------------------------------------------------------------------------------------------
# Fitting spans into the token limit

_Unit = tuple[int, int, int]  # start, end, token count (with special tokens)


def _estimate(units: Sequence[_Unit], specials: int) -> int:
    return specials + sum(count - specials for _, _, count in units)


def _pack(units: Sequence[_Unit], cap: int, specials: int) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    total = specials
    for unit in units:
        size = unit[2] - specials
        if current and total + size > cap:
            groups.append(current)
            current, total = [], specials
        current.append(unit)
        total += size
    if current:
        groups.append(current)
    return groups


def _balanced_pack(units: Sequence[_Unit], max_tokens: int, specials: int) -> list[list[_Unit]]:
    """As few groups as greedy packing needs, with sizes evened out (no tiny last group)."""
    groups = _pack(units, max_tokens, specials)
    if len(groups) <= 1:
        return groups
    target = specials + math.ceil((_estimate(units, specials) - specials) / len(groups))
    low, high = max(target, max(unit[2] for unit in units)), max_tokens
    while low < high:
        middle = (low + high) // 2
        if len(_pack(units, middle, specials)) <= len(groups):
            high = middle
        else:
            low = middle + 1
    return _pack(units, low, specials)


class _Fitter:
    """Cuts spans into pieces within ``max_tokens``: sentences, then words, then characters."""

    def __init__(self, text: str, count_tokens: TokenCounter, max_tokens: int, specials: int) -> None:
        self.text = text
        self.count_tokens = count_tokens
        self.max_tokens = max_tokens
        self.specials = specials

    def count(self, spans: Sequence[tuple[int, int]]) -> list[int]:
        if not spans:
            return []
        counts = list(self.count_tokens([self.text[start:end] for start, end in spans]))
        if len(counts) != len(spans):
            raise ValueError(f"count_tokens returned {len(counts)} counts for {len(spans)} texts")
        return counts

    def fit_many(self, oversized: Sequence[tuple[int, int]]) -> list[list[_Unit]]:
        """For each oversized paragraph, its pieces in order (each within the limit)."""
        sentence_spans = [self._sentences(start, end) for start, end in oversized]
        flat = [span for spans in sentence_spans for span in spans]
        counts = iter(self.count(flat))
        sentence_units = [[(s, e, next(counts)) for s, e in spans] for spans in sentence_spans]
        long_sentences = [unit[:2] for units in sentence_units for unit in units if unit[2] > self.max_tokens]
        cut = dict(zip(long_sentences, self._cut_sentences(long_sentences), strict=True))

        runs: list[list[_Unit]] = []  # runs of units that may share a passage
        layout: list[list[int]] = []  # per paragraph, the indices of its runs
        for units in sentence_units:
            indices: list[int] = []
            run: list[_Unit] = []
            for unit in units:
                if unit[2] <= self.max_tokens:
                    run.append(unit)
                    continue
                if run:
                    indices.append(len(runs))
                    runs.append(run)
                    run = []
                indices.append(len(runs))
                runs.append(cut[unit[:2]])
            if run:
                indices.append(len(runs))
                runs.append(run)
            layout.append(indices)
        grouped = self._group_runs(runs)
        return [[piece for index in indices for piece in grouped[index]] for indices in layout]

    def _sentences(self, start: int, end: int) -> list[tuple[int, int]]:
        return [(start + s, start + e) for s, e in split_sentences(self.text[start:end])]

    def _cut_sentences(self, sentences: Sequence[tuple[int, int]]) -> list[list[_Unit]]:
        """Each sentence over the limit as word units (words over the limit cut into characters)."""
        words_per = [
            [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", self.text[start:end])]
            for start, end in sentences
        ]
        counts = iter(self.count([word for words in words_per for word in words]))
        result: list[list[_Unit]] = []
        for words in words_per:
            units: list[_Unit] = []
            for start, end in words:
                count = next(counts)
                if count <= self.max_tokens:
                    units.append((start, end, count))
                else:
                    units.extend(self.cut_word(start, end))
            result.append(units)
        return result

    def cut_word(self, start: int, end: int) -> list[_Unit]:
        """Cut one very long word into the longest prefixes that fit (binary search on the length)."""
        pieces: list[_Unit] = []
        while start < end:
            # A window of 32 characters a token keeps each count short; a piece may come out shorter than
            # it could be, never longer.
            low, high, best = start + 1, min(end, start + min(32 * self.max_tokens, MAX_PASSAGE_CHARS)), None
            while low <= high:
                middle = (low + high) // 2
                count = self.count([(start, middle)])[0]
                if count <= self.max_tokens:
                    best, low = (start, middle, count), middle + 1
                else:
                    high = middle - 1
            if best is None:
                raise ValueError(
                    f"max_tokens={self.max_tokens} is too small to hold even one character "
                    f"({self.text[start]!r}); use a larger max_tokens"
                )
            pieces.append(best)
            start = best[1]
        return pieces

    def _group_runs(self, runs: Sequence[Sequence[_Unit]]) -> list[list[_Unit]]:
        """Group each run into pieces; check every group of several units with the real counter."""
        pending: list[list[tuple[list[_Unit], int | None]]] = [
            [(group, None) for group in _balanced_pack(run, self.max_tokens, self.specials)] for run in runs
        ]
        while True:
            todo = [
                (r, g)
                for r, groups in enumerate(pending)
                for g, (group, count) in enumerate(groups)
                if count is None and len(group) > 1
            ]
            if not todo:
                break
            counts = self.count([(pending[r][g][0][0][0], pending[r][g][0][-1][1]) for r, g in todo])
            for (r, g), measured in zip(todo, counts, strict=True):
                pending[r][g] = (pending[r][g][0], measured)
            for r, groups in enumerate(pending):
                fixed: list[tuple[list[_Unit], int | None]] = []
                for group, known in groups:
                    if known is not None and known > self.max_tokens:  # the estimate was short: halve it
                        half = len(group) // 2
                        fixed.extend([(group[:half], None), (group[half:], None)])
                    else:
                        fixed.append((group, known))
                pending[r] = fixed
        return [
            [(group[0][0], group[-1][1], count if count is not None else group[0][2]) for group, count in groups]
            for groups in pending
        ]


def _merge_short(
    pieces: list[tuple[int, int, int, str | None]],
    fitter: _Fitter,
    min_tokens: int,
    page_at: Callable[[int], int | None],
) -> list[tuple[int, int, int, str | None]]:
    """Merge consecutive pieces of one section and one page while either side is under ``min_tokens``."""
    merged: list[list[tuple[int, int, int, str | None]]] = []
    for piece in pieces:
        if merged:
            last = merged[-1]
            estimate = fitter.specials + sum(p[2] - fitter.specials for p in last) + piece[2] - fitter.specials
            short = piece[2] < min_tokens or _estimate([p[:3] for p in last], fitter.specials) < min_tokens
            same_page = page_at(last[0][0]) == page_at(piece[0])
            if short and last[-1][3] == piece[3] and same_page and estimate <= fitter.max_tokens:
                last.append(piece)
                continue
        merged.append([piece])
    multi = [group for group in merged if len(group) > 1]
    counts = dict(zip((id(g) for g in multi), fitter.count([(g[0][0], g[-1][1]) for g in multi]), strict=True))
    result: list[tuple[int, int, int, str | None]] = []
    for group in merged:
        if len(group) == 1:
            result.append(group[0])
        elif counts[id(group)] <= fitter.max_tokens:
            result.append((group[0][0], group[-1][1], counts[id(group)], group[0][3]))
        else:
            result.extend(group)
    return result


def _cut_by_characters(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``text[start:end]`` in stripped pieces of at most MAX_PASSAGE_CHARS, cut at a space where one is near."""
    pieces: list[tuple[int, int]] = []
    while end - start > MAX_PASSAGE_CHARS:
        limit = start + MAX_PASSAGE_CHARS
        space = max(text.rfind(" ", start, limit + 1), text.rfind("\n", start, limit + 1))
        cut = space if space > start + MAX_PASSAGE_CHARS // 2 else limit
        head = strip_span(text, start, cut)
        if head is not None:
            pieces.append(head)
        tail = strip_span(text, cut, end)
        if tail is None:
            return pieces
        start, end = tail
    pieces.append((start, end))
    return pieces


def _cap_characters(
    pieces: list[tuple[int, int, int, str | None]], fitter: _Fitter
) -> list[tuple[int, int, int, str | None]]:
    """Cut every piece longer than MAX_PASSAGE_CHARS by characters, keeping each cut within the token limit."""
    if all(end - start <= MAX_PASSAGE_CHARS for start, end, _, _ in pieces):
        return pieces
    result: list[tuple[int, int, int, str | None]] = []
    for start, end, count, section in pieces:
        if end - start <= MAX_PASSAGE_CHARS:
            result.append((start, end, count, section))
            continue
        spans = _cut_by_characters(fitter.text, start, end)
        for (s, e), c in zip(spans, fitter.count(spans), strict=True):
            if c <= fitter.max_tokens:
                result.append((s, e, c, section))
            else:  # cutting mid-word made more tokens than the whole had
                result.extend((ws, we, wc, section) for ws, we, wc in fitter.cut_word(s, e))
    return result


def split_document(
    document: Document,
    count_tokens: TokenCounter,
    max_tokens: int,
    min_tokens: int = 0,
) -> list[Passage]:
    """Split a document into passages of at most ``max_tokens`` tokens.

    Each paragraph is a passage; a longer paragraph becomes consecutive runs of whole sentences, and only a
    sentence longer than the limit on its own is cut (between words). A passage is never longer than
    MAX_PASSAGE_CHARS: a longer run is cut by characters. Headings become ``section``.

    Args:
        document: The document; passages are slices of ``document.text``.
        count_tokens: Token counts, special tokens included, for a batch of texts. Called once per document,
            more only when a paragraph must be split.
        max_tokens: Upper limit of tokens per passage (the model's maximum sequence length or less).
        min_tokens: Merge consecutive paragraphs of one section while one is shorter than this (0: never).

    Returns:
        Passages in document order, ``position`` 0..n-1.

    Raises:
        ValueError: ``max_tokens`` cannot hold the model's special tokens plus some text.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be positive, got {max_tokens}")
    text = document.text
    all_blocks = Layout(text).blocks()
    blocks = all_blocks
    if blocks and blocks[0].heading is not None and blocks[0].heading == document.title.strip():
        blocks = blocks[1:]  # the title line is the document's title, not a section
    paragraphs: list[tuple[int, int, str | None]] = []
    section: str | None = None
    for block in blocks:
        if block.heading is None:
            paragraphs.append((block.start, block.end, section))
        else:
            section = block.heading
    if not paragraphs:  # nothing but headings: keep them searchable
        paragraphs = [(block.start, block.end, None) for block in all_blocks]
    if not paragraphs:
        return []

    counts = list(count_tokens([text[start:end] for start, end, _ in paragraphs] + [""]))
    if len(counts) != len(paragraphs) + 1:
        raise ValueError(f"count_tokens returned {len(counts)} counts for {len(paragraphs) + 1} texts")
    specials = counts.pop()
    if max_tokens <= specials:
        raise ValueError(
            f"max_tokens={max_tokens} leaves no room for text: the model adds {specials} special tokens to "
            "every passage; use a larger max_tokens"
        )
    fitter = _Fitter(text, count_tokens, max_tokens, specials)
    oversized = [(start, end) for (start, end, _), count in zip(paragraphs, counts, strict=True) if count > max_tokens]
    fitted = iter(fitter.fit_many(oversized))
    pieces: list[tuple[int, int, int, str | None]] = []
    for (start, end, section), count in zip(paragraphs, counts, strict=True):
        if count <= max_tokens:
            pieces.append((start, end, count, section))
        else:
            pieces.extend((s, e, c, section) for s, e, c in next(fitted))
    if min_tokens > 0:
        pieces = _merge_short(pieces, fitter, min_tokens, lambda offset: page_of(document.metadata, offset))
    pieces = _cap_characters(pieces, fitter)
    return [
        Passage(document.doc_id, position, section, start, end, text[start:end])
        for position, (start, end, _, section) in enumerate(pieces)
    ]
