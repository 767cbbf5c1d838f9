"""HTML pages: the main content through trafilatura, without navigation, banners, related lists and footers.

Headings come out as markdown ``#`` lines so the splitter makes them sections; the headline is the title; author,
published date, site name and canonical URL go to the metadata.
"""

from __future__ import annotations

import re
from typing import Any

import trafilatura
from trafilatura.core import determine_returnstring
from trafilatura.settings import Document, Extractor

from indexer.formats import Extracted, Limits
from indexer.formats.dates import to_iso
from indexer.formats.text import decode

_META_FIELDS = {"author": "author", "sitename": "site_name", "url": "url", "description": "description"}
_TAG_RE = re.compile(r"<[^>]+>")
_STRONG_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS_RE = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")


def _options(with_metadata: bool) -> Extractor:
    return Extractor(
        output_format="markdown",
        with_metadata=with_metadata,
        comments=False,
        tables=True,
        formatting=True,  # headings as "#" lines
        links=False,
        images=False,
        precision=True,
    )


def extract(data: bytes, limits: Limits) -> Extracted | str:
    """Extract an HTML page's article text and metadata."""
    decoded = decode(data)
    if isinstance(decoded, str):
        return decoded
    document = trafilatura.bare_extraction(decoded.text, options=_options(with_metadata=True))
    if not isinstance(document, Document):  # None: nothing extracted
        return _no_content(decoded.text)
    text = determine_returnstring(document, _options(with_metadata=False)).strip()  # as trafilatura.extract
    text = _EMPHASIS_RE.sub(r"\1", _STRONG_RE.sub(r"\2", text))  # markdown emphasis is not text
    if not text:
        return _no_content(decoded.text)
    if len(text) > limits.max_bytes:
        return f"the page's text is {len(text):,} characters, over the limit of {limits.max_bytes:,}"
    metadata: dict[str, Any] = {"encoding": decoded.encoding}
    for source, target in _META_FIELDS.items():
        value = getattr(document, source, None)
        if isinstance(value, str) and value.strip():
            metadata[target] = value.strip()
    published = to_iso(getattr(document, "date", None))
    if published:
        metadata["published"] = published
    if decoded.replaced_bytes:
        metadata["replaced_bytes"] = decoded.replaced_bytes
    title = getattr(document, "title", None)
    return Extracted(text + "\n", title.strip() if isinstance(title, str) and title.strip() else None, metadata)


def _no_content(page: str) -> str:
    if not _TAG_RE.search(page):
        return "no HTML markup and no text found"
    return "no main text found in the page (only navigation, scripts or markup)"
