"""Split text into sentences: abbreviations, initials, decimals and closing quotes do not end one."""

from __future__ import annotations

import re

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
            span = strip_span(text, begin, cut)
            if span is not None:
                spans.append(span)
            begin = cut
    return spans


def strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``(start, end)`` narrowed to the non-space text inside it; None when there is none."""
    piece = text[start:end]
    stripped = piece.lstrip()
    if not stripped:
        return None
    return start + len(piece) - len(stripped), start + len(piece.rstrip())
