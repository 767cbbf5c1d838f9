"""Plain text: decoding by detection (legacy encodings too), and the headline and dateline of news text."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x9f]")
_MAX_CONTROL_SHARE = 0.01  # more control characters than this and the "text" is binary
_BAD_BYTE_RE = re.compile(r"[\udc80-\udcff]")
_LETTER_RUN_RE = re.compile(r"[^\W\d_]+")
_WESTERN_MARKS = frozenset("“”‘’„‚–—…€«»°£§©®™•·¡¿")
_WESTERN_SHARE = 0.8
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
HEADLINE_MAX_CHARS = 150
HEADLINE_MAX_WORDS = 20


@dataclass(frozen=True)
class Decoded:
    """Decoded text, the encoding it was read in, and how many undecodable bytes were replaced by U+FFFD."""

    text: str
    encoding: str
    replaced_bytes: int = 0


def decode(data: bytes) -> Decoded | str:
    """Decode text bytes: a byte-order mark, else UTF-8 (a few bad bytes replaced), else detection.

    Detectors guess wrong on short Western text (``café`` as cp775), so cp1252/Latin-1 is taken whenever it
    reads as Western text; otherwise charset-normalizer chooses (cp1251, cp1250, UTF-16 without a mark, ...).

    Returns:
        The decoded text, or the reason the bytes are not text.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _checked(data.decode(encoding, "replace"), encoding.removesuffix("-sig"))
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is None:
            return "binary file (contains NUL bytes), not text"
        return _checked(data.decode(utf16, "replace"), utf16)
    escaped = data.decode("utf-8", "surrogateescape")
    bad = len(_BAD_BYTE_RE.findall(escaped))
    if not bad:
        return _checked(escaped, "utf-8")
    good = sum(1 for char in escaped if "\x7f" < char < "\udc80" or char > "\udcff")
    if good >= bad:  # UTF-8 but for a few bad bytes: keep it UTF-8, replace them and say how many
        return _checked(_BAD_BYTE_RE.sub("\ufffd", escaped), "utf-8", bad)
    return _legacy(data)


def _checked(text: str, encoding: str, replaced: int = 0) -> Decoded | str:
    controls = sum(1 for _ in _CONTROL_RE.finditer(text))
    if controls > _MAX_CONTROL_SHARE * len(text):
        return f"binary file ({controls} control characters in {len(text)}), not text"
    return Decoded(text, encoding, replaced)


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when every other byte is mostly NUL (ASCII-range UTF-16), else None."""
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2], data[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _western_share(text: str) -> float:
    """Share of non-ASCII characters that are Western punctuation or letters inside words with ASCII letters."""
    fits = total = 0
    for char in text:
        if char.isascii():
            continue
        total += 1
        fits += char in _WESTERN_MARKS
    for run in _LETTER_RUN_RE.findall(text):
        if not run.isascii() and any(char.isascii() for char in run):
            fits += sum(1 for char in run if not char.isascii() and char.isalpha())
    return fits / total if total else 1.0


def _legacy(data: bytes) -> Decoded | str:
    try:
        western = data.decode("cp1252")
        encoding = "cp1252" if any(0x80 <= byte <= 0x9F for byte in data) else "latin-1"
    except UnicodeDecodeError:  # bytes cp1252 leaves undefined (0x81, 0x8d, ...)
        western, encoding = data.decode("latin-1"), "latin-1"
    if _western_share(western) >= _WESTERN_SHARE:
        return _checked(western, encoding)
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        return "not text: no encoding decodes it (tried UTF-8, cp1252 and detection)"
    return _checked(str(best), codecs.lookup(best.encoding).name)


def news_headline(text: str) -> str | None:
    """The first line when it reads as a headline: short, no final full stop, followed by a blank line."""
    first, newline, rest = text.lstrip("\n").partition("\n")
    headline = first.strip()
    if not newline or not headline or not rest.startswith("\n") and rest.split("\n", 1)[0].strip():
        return None
    if len(headline) > HEADLINE_MAX_CHARS or len(headline.split()) > HEADLINE_MAX_WORDS:
        return None
    if headline.endswith((".", ",", ";", ":")) and not headline.endswith("..."):
        return None
    return headline if any(char.isalpha() for char in headline) else None
