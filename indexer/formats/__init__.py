"""Turn the bytes of one file into a document's title, text and metadata, one module per format.

Each extractor returns an :class:`Extracted` or a reason (a string) to skip the file. Extractor libraries are
optional extras (``pip install 'seedsearch[formats]'``), imported only when a file of their kind is met: without
them the file is skipped with a reason naming the extra.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from indexer.formats import dates, text

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
EXTRA_HINT = "pip install 'seedsearch[formats]'"


@dataclass(frozen=True)
class Extracted:
    """What a file holds: ``text`` is the document text every passage offset refers to."""

    text: str
    title: str | None = None  # None: the caller picks one (a heading, else the file name)
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """Bounds that keep one hostile or huge file from stalling a build or taking its memory."""

    max_bytes: int = 20 * 1024 * 1024  # of extracted text, and of a DOCX's unpacked parts (x8)
    max_pages: int = 5000
    max_zip_ratio: int = 200  # unpacked / packed size of one DOCX part: more is a zip bomb


Extractor = Callable[[bytes, Limits], "Extracted | str"]

_MODULES = {".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx"}
_KINDS = {".html": "an HTML page", ".htm": "an HTML page", ".pdf": "a PDF", ".docx": "a Word .docx file"}
SUFFIXES = tuple(_MODULES)
"""File suffixes handled here besides plain text (``.txt``, ``.md``), which :mod:`indexer.formats.text` decodes."""


def sniff(data: bytes) -> str | None:
    """The suffix the content says the file is (``.pdf``, ``.docx``, ``.zip``, ``.html``), when it is clear."""
    head = data[:1024]
    if head.startswith(b"%PDF-") or (b"%PDF-" in head and not head.lstrip().startswith(b"<")):
        return ".pdf"
    if head.startswith(b"PK\x03\x04"):
        return ".docx" if b"word/" in data[:65536] or b"[Content_Types].xml" in head else ".zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return ".doc"
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return ".html"
    return None


def mislabelled(suffix: str, data: bytes) -> str | None:
    """Why a file is not what its name says (a PDF named ``.html``), or None when it may well be."""
    actual = sniff(data)
    expected = ".html" if suffix == ".htm" else suffix
    if actual is None or actual == expected:
        return None
    if expected == ".docx" and actual == ".doc":  # an encrypted .docx is an OLE file too: the extractor tells
        return None
    if expected in (".txt", ".md") and actual in (".html", ".zip"):  # HTML source is text; a ZIP fails as binary
        return None
    what = {
        ".pdf": "a PDF",
        ".docx": "a Word .docx file",
        ".doc": "an old Word .doc file (save it as .docx)",
        ".zip": "a ZIP archive",
        ".html": "an HTML page",
    }[actual]
    rename = f"; rename it to {actual} to index it" if actual in _MODULES else ""
    prefix = "binary file: " if expected in (".txt", ".md") else ""
    return f"{prefix}the file is {what} but its name ends in {suffix}{rename}"


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def decoding_notes(documents: Iterable[Any]) -> list[str]:
    """A report line for each loaded document whose undecodable bytes were replaced (U+FFFD), with the count."""
    notes = []
    for document in documents:
        count = document.metadata.get("replaced_bytes", 0)
        if count:
            encoding = document.metadata.get("encoding", "utf-8")
            plural = "byte" if count == 1 else "bytes"
            source = _CONTROL_RE.sub(_escape, document.source)
            notes.append(
                f"decoded {source} as {encoding} with {count} undecodable {plural} replaced by U+FFFD; "
                "fix the file to index those characters"
            )
    return notes


def extract(suffix: str, data: bytes, limits: Limits | None = None) -> Extracted | str:
    """Extract a file of kind ``suffix`` (``.txt``, ``.md``, ``.html``, ``.htm``, ``.pdf``, ``.docx``).

    A ``published`` date found in the file's properties, else in a dateline in its first lines, goes to the
    metadata as ISO 8601.

    Returns:
        The extracted document, or the reason it is skipped (mislabelled, encrypted, corrupt, too large, no text,
        or the extractor not installed).
    """
    suffix = suffix.lower()
    if not data:
        return "empty file"
    wrong = mislabelled(suffix, data)
    if wrong:
        return wrong
    extracted = _extract_text(data) if suffix not in _MODULES else _extract_with(suffix, data, limits or Limits())
    if isinstance(extracted, str) or "published" in extracted.metadata:
        return extracted
    published = dates.from_dateline(extracted.text)
    if published is None:
        return extracted
    return Extracted(extracted.text, extracted.title, {**extracted.metadata, "published": published})


def _extract_with(suffix: str, data: bytes, limits: Limits) -> Extracted | str:
    try:
        module = importlib.import_module(f"indexer.formats.{_MODULES[suffix]}")
    except ImportError as err:
        return f"cannot read {_KINDS[suffix]}: {err.name or err} is not installed; run {EXTRA_HINT}"
    extractor: Extractor = module.extract
    return extractor(data, limits)


def _extract_text(data: bytes) -> Extracted | str:
    decoded = text.decode(data)
    if isinstance(decoded, str):
        return decoded
    metadata: dict[str, Any] = {"encoding": decoded.encoding}
    if decoded.replaced_bytes:
        metadata["replaced_bytes"] = decoded.replaced_bytes
    return Extracted(decoded.text, None, metadata)
