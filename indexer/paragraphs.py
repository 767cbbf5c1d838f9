"""Paragraphs and headings: where a text's blocks begin and end, and which short lines are headings."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
class Block:
    """A paragraph, or a heading (cleaned) that opens a section."""

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


class Layout:
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

    def blocks(self) -> list[Block]:
        blocks: list[Block] = []
        para: list[int] | None = None  # [start, end] of the paragraph being read
        gap_before = True  # a blank line, a separator or the start of the text precedes this line
        prev_text_line = -1

        def close() -> None:
            nonlocal para
            if para is not None:
                blocks.append(Block(para[0], para[1], None))
                para = None

        for i, kind in enumerate(self.kinds):
            if kind in (_BLANK, _RULE):
                close()
                gap_before = True
                continue
            if kind == _MD:
                close()
                heading = _MD_HEADING_RE.match(self.contents[i]).group(1)  # type: ignore[union-attr]
                blocks.append(Block(self.starts[i], self.ends[i], heading))
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
                blocks.append(Block(self.starts[i], self.ends[i], self.contents[i]))
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
    blocks = Layout(text).blocks()
    if blocks and blocks[0].heading is not None:
        return blocks[0].heading
    return None
