"""Split documents into passages that follow paragraphs and whole sentences.

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

if TYPE_CHECKING:
    from indexer.documents import Document

TokenCounter = Callable[[Sequence[str]], list[int]]
"""Returns, for each text, its token count including the special tokens the model adds."""


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
# Sentences

_BREAK_RE = re.compile(
    r"[.!?…‽]+[\"'”’»)\]}]*(?=\s|\Z)"  # sentence-final punctuation (maybe inside a closing quote) + space
    r"|[。！？]+[」』”’）)]*"  # CJK full stops need no space after them
    r"|\n[^\S\n]*\n"  # blank line
    r"|\n[^\S\n]+(?=\S)"  # newline + indentation: a new paragraph
)
_NEXT_RE = re.compile(r"\s*(\S?)")
_NEXT_WORD_RE = re.compile(r"\s*[\"'“‘(\[]*([^\s\"'“”‘’()\[\],.;:!?]*)")
_ACRONYM_RE = re.compile(r"(?:[A-Za-z]{1,3}\.)+[A-Za-z]{1,3}")
_LEADING_OPENERS = "\"'“‘([{«"

# A period after these never ends a sentence ("Mr. Smith", "e.g. this").
_NEVER_FINAL = frozenset(
    "mr mrs ms messrs dr prof sr jr st mt gen col lt maj sgt capt cmdr adm gov sen sens rep reps rev hon pres "
    "supt insp det fr mme mlle e.g i.e cf viz".split()
)
# ...unless what follows is not a number ("No. 5", "pp. 12").
_BEFORE_NUMBER = frozenset("no nos vol vols pp p pg fig figs art arts ch sec secs para eq ref tab".split())
# A period after these ends a sentence only when a typical sentence opener follows ("Acme Inc. The ...").
_MAYBE_FINAL = frozenset(
    "inc corp co cos ltd llc plc bros etc vs al approx est dept univ assn "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_OPENERS = frozenset(
    "The A An It Its He She They We I You In On At But And Or So This That These Those There Their His Her "
    "Our Your As If When While After Before However Meanwhile Also For With By From Some Many Most Last Next "
    "Then Yet Still Such No Not All Both Each One Two Three Analysts Officials Shares".split()
)


def _next_word_opens(text: str, pos: int) -> bool:
    match = _NEXT_WORD_RE.match(text, pos)
    return match is not None and match.group(1) in _OPENERS


def _is_sentence_end(text: str, punct_start: int, punct_end: int) -> bool:
    """Whether the punctuation at ``text[punct_start:punct_end]`` (then a space) ends a sentence."""
    following = _NEXT_RE.match(text, punct_end).group(1)  # type: ignore[union-attr]
    if not following:
        return True
    if following.islower():
        return False
    if text[punct_start] != "." or text.startswith("..", punct_start):
        return True
    head = text[max(0, punct_start - 40) : punct_start]
    if not head or head[-1].isspace():
        return True
    word = head.rsplit(None, 1)[-1].lstrip(_LEADING_OPENERS)
    if not word:
        return True
    lowered = word.lower()
    if lowered in _NEVER_FINAL:
        return False
    if lowered in _BEFORE_NUMBER:
        return not following.isdigit()
    if (len(word) == 1 and word.isalpha()) or lowered in _MAYBE_FINAL or _ACRONYM_RE.fullmatch(word):
        # An initial ("J. Smith"), "Inc.", "U.S.", "a.m.": a sentence ends only before a typical opener.
        return _next_word_opens(text, punct_end)
    return True


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split text into sentences.

    Knows abbreviations ("Mr.", "U.S.", "e.g.", "No. 5"), decimals, initials and sentences that end inside a
    closing quote. A blank line or a newline followed by indentation always ends a sentence; any other newline
    is a soft wrap.

    Args:
        text: Any text.

    Returns:
        Character spans ``(start, end)`` in order, stripped of surrounding white space, never empty; together
        they cover every non-space character of ``text``.
    """
    cuts: list[int] = []
    for match in _BREAK_RE.finditer(text):
        first = text[match.start()]
        if first == "\n":
            cuts.append(match.start())
        elif first in "。！？" or _is_sentence_end(text, match.start(), match.end()):
            cuts.append(match.end())
    cuts.append(len(text))
    spans: list[tuple[int, int]] = []
    begin = 0
    for cut in cuts:
        if cut > begin:
            span = _strip_span(text, begin, cut)
            if span is not None:
                spans.append(span)
            begin = cut
    return spans


def _strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    piece = text[start:end]
    stripped = piece.lstrip()
    if not stripped:
        return None
    return start + len(piece) - len(stripped), start + len(piece.rstrip())


# --------------------------------------------------------------------------------------------------------------
# Paragraphs and headings

_MD_HEADING_RE = re.compile(r"#{1,6}[ \t]+(.*?\S)(?:[ \t]+#+)?[ \t]*\Z")
_RULE_RE = re.compile(r"(?:[-=*_~.·•#][ \t]*){3,}\Z")  # "---", "* * *", "=====": separators, not text
_RULE_CHARS = frozenset("-=*_~.·•#")
_LINE_END_CHARS = frozenset(".!?…‽。！？\"'”’»)]}")
_BULLET_RE = re.compile(r"(?:[-*+•–—]|\d{1,3}[.)])\s")
_LINE_END_RE = re.compile(r"(?:[.!?…‽。！？]+[\"'”’»)\]}]*|[”»\"])\Z")
_NO_HEADING_END_RE = re.compile(r"(?:[.!?…‽,;:。！？][\"'”’»)\]}]*|[”»\"])\Z")
_INNER_SENTENCE_END_RE = re.compile(r"[a-z][.!?][\"'”’)]*\s+[A-Z]")
_CONTINUATION_WORDS = frozenset(
    "a an the and or but nor of to in on at by for from with as than that which who whose said says is are "
    "was were be been has have had its their his her our your my this these those into onto per via "
    "he she it they we i vs".split()
)
_HEADING_MAX_CHARS = 100
_HEADING_MAX_WORDS = 12
_WRAP_MAX_CHARS = 80

_BLANK, _RULE, _MD, _TEXT = 0, 1, 2, 3


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    heading: str | None  # cleaned heading text; None for a paragraph


def _heading_shaped(line: str) -> bool:
    """Short, no end punctuation, not a list item, not ending on a word that continues a sentence."""
    if len(line) > _HEADING_MAX_CHARS or _NO_HEADING_END_RE.search(line) or _BULLET_RE.match(line):
        return False
    if _INNER_SENTENCE_END_RE.search(line):
        return False
    words = line.split()
    if len(words) > _HEADING_MAX_WORDS or not any(ch.isalpha() for ch in line):
        return False
    return words[-1].lower() not in _CONTINUATION_WORDS


def _ends_like_sentence(line: str) -> bool:
    return line[-1] in _LINE_END_CHARS and _LINE_END_RE.search(line, max(0, len(line) - 12)) is not None


class _Layout:
    """Lines of a text, classified once."""

    def __init__(self, text: str) -> None:
        self.starts: list[int] = []  # first non-space character of each line
        self.ends: list[int] = []  # end of its last non-space character
        self.indented: list[bool] = []
        self.kinds: list[int] = []
        self.contents: list[str] = []
        pos = 0
        for raw in text.split("\n"):
            content = raw.strip()
            if content:
                start = pos + len(raw) - len(raw.lstrip())
                first = content[0]
                if first == "#" and _MD_HEADING_RE.match(content):
                    kind = _MD
                elif first in _RULE_CHARS and _RULE_RE.match(content):
                    kind = _RULE
                else:
                    kind = _TEXT
                self.starts.append(start)
                self.ends.append(start + len(content))
                self.indented.append(start > pos)
                self.kinds.append(kind)
            else:
                self.starts.append(pos)
                self.ends.append(pos)
                self.indented.append(False)
                self.kinds.append(_BLANK)
            self.contents.append(content)
            pos += len(raw) + 1
        self.wrapped = self._looks_hard_wrapped()

    def ends_sentence(self, i: int) -> bool:
        """Line ``i`` ends in sentence-final punctuation or a closing quote, and no lowercase word follows."""
        following = self.contents[i + 1] if i + 1 < len(self.contents) else ""
        return _ends_like_sentence(self.contents[i]) and not following[:1].islower()

    def _looks_hard_wrapped(self) -> bool:
        """Text wrapped at a fixed width: lines run on into the next one without ending a sentence.

        Clear when a run-on line could not be a heading and no line is longer than a typical wrap width, or
        when at least a quarter of the lines run on.
        """
        kinds, contents = self.kinds, self.contents
        joined = runs_on = clear = longest = 0
        for i in range(len(kinds)):
            if kinds[i] != _TEXT:
                continue
            content = contents[i]
            longest = max(longest, len(content))
            if i + 1 < len(kinds) and kinds[i + 1] == _TEXT:
                joined += 1
                if not _ends_like_sentence(content):
                    runs_on += 1
                    if not clear and not _heading_shaped(content):
                        clear = 1
        return (clear >= 1 and longest <= _WRAP_MAX_CHARS) or (runs_on >= 2 and runs_on * 4 >= joined)

    def next_content_line(self, i: int) -> int | None:
        for j in range(i + 1, len(self.kinds)):
            if self.kinds[j] not in (_BLANK, _RULE):
                return j
        return None

    def is_plain_heading(self, i: int, gap_before: bool) -> bool:
        """A short line, at a paragraph start, followed by a line of running text."""
        if not _heading_shaped(self.contents[i]):
            return False
        j = self.next_content_line(i)
        if j is None or self.kinds[j] != _TEXT:
            return False
        following = self.contents[j]
        if following[0].islower() or following[0].isdigit() or _heading_shaped(following):
            return False
        if self.wrapped or self.indented[j]:  # then only a line standing alone is a heading
            return gap_before and j > i + 1
        return True

    def blocks(self) -> list[_Block]:
        blocks: list[_Block] = []
        para: list[int] | None = None  # [start, end] of the paragraph being read
        gap_before = True  # a blank line, a separator or the start of the text precedes this line
        prev_text_line = -1

        def close() -> None:
            nonlocal para
            if para is not None:
                blocks.append(_Block(para[0], para[1], None))
                para = None

        for i, kind in enumerate(self.kinds):
            if kind in (_BLANK, _RULE):
                close()
                gap_before = True
                continue
            if kind == _MD:
                close()
                heading = _MD_HEADING_RE.match(self.contents[i]).group(1)  # type: ignore[union-attr]
                blocks.append(_Block(self.starts[i], self.ends[i], heading))
                gap_before = True
                continue
            new_paragraph = (
                para is None
                or self.indented[i]
                or _BULLET_RE.match(self.contents[i]) is not None
                or (not self.wrapped and self.ends_sentence(prev_text_line))
            )
            if new_paragraph and not self.indented[i] and self.is_plain_heading(i, gap_before):
                close()
                blocks.append(_Block(self.starts[i], self.ends[i], self.contents[i]))
            elif new_paragraph:
                close()
                para = [self.starts[i], self.ends[i]]
            else:
                para[1] = self.ends[i]  # type: ignore[index]
            gap_before = False
            prev_text_line = i
        close()
        return blocks


def leading_heading(text: str) -> str | None:
    """The heading that opens ``text`` (markdown ``# ...`` or a short line over running text), if any."""
    blocks = _Layout(text).blocks()
    if blocks and blocks[0].heading is not None:
        return blocks[0].heading
    return None


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
                    units.extend(self._cut_word(start, end))
            result.append(units)
        return result

    def _cut_word(self, start: int, end: int) -> list[_Unit]:
        """Cut one very long word into the longest prefixes that fit (binary search on the length)."""
        pieces: list[_Unit] = []
        while start < end:
            # A window of 32 characters a token keeps each count short; a piece may come out shorter than
            # it could be, never longer.
            low, high, best = start + 1, min(end, start + 32 * self.max_tokens), None
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
        pending = [[(group, None) for group in _balanced_pack(run, self.max_tokens, self.specials)] for run in runs]
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
            for (r, g), count in zip(todo, counts, strict=True):
                pending[r][g] = (pending[r][g][0], count)
            for r, groups in enumerate(pending):
                fixed: list[tuple[list[_Unit], int | None]] = []
                for group, count in groups:
                    if count is not None and count > self.max_tokens:  # the estimate was short: halve it
                        half = len(group) // 2
                        fixed.extend([(group[:half], None), (group[half:], None)])
                    else:
                        fixed.append((group, count))
                pending[r] = fixed
        return [
            [(group[0][0], group[-1][1], count if count is not None else group[0][2]) for group, count in groups]
            for groups in pending
        ]


def _merge_short(
    pieces: list[tuple[int, int, int, str | None]],
    fitter: _Fitter,
    min_tokens: int,
) -> list[tuple[int, int, int, str | None]]:
    """Merge consecutive pieces of one section while either side is under ``min_tokens``."""
    merged: list[list[tuple[int, int, int, str | None]]] = []
    for piece in pieces:
        if merged:
            last = merged[-1]
            estimate = fitter.specials + sum(p[2] - fitter.specials for p in last) + piece[2] - fitter.specials
            short = piece[2] < min_tokens or _estimate([p[:3] for p in last], fitter.specials) < min_tokens
            if short and last[-1][3] == piece[3] and estimate <= fitter.max_tokens:
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


def split_document(
    document: Document,
    count_tokens: TokenCounter,
    max_tokens: int,
    min_tokens: int = 0,
) -> list[Passage]:
    """Split a document into passages of at most ``max_tokens`` tokens.

    Each paragraph is a passage; a longer paragraph becomes consecutive runs of whole sentences, and only a
    sentence longer than the limit on its own is cut (between words). Headings become ``section``.

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
    all_blocks = _Layout(text).blocks()
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
        pieces = _merge_short(pieces, fitter, min_tokens)
    return [
        Passage(document.doc_id, position, section, start, end, text[start:end])
        for position, (start, end, _, section) in enumerate(pieces)
    ]
