"""Page numbers of passages: pages joined into one text, and a passage's page found from its offset."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

PAGE_BREAK = "\n\n"
"""Between pages: a blank line ends a paragraph, so the splitter never runs a passage across a page break."""


def join_pages(pages: Sequence[str]) -> tuple[str, list[int]]:
    """The pages' texts joined by a blank line, and each page's start offset in the result."""
    starts: list[int] = []
    parts: list[str] = []
    offset = 0
    for page in pages:
        page = page.strip("\n")
        starts.append(offset)
        if page:
            parts.append(page)
            offset += len(page) + len(PAGE_BREAK)
    return PAGE_BREAK.join(parts) + ("\n" if parts else ""), starts


def page_of(metadata: Mapping[str, Any], start: int) -> int | None:
    """The 1-based page holding offset ``start`` of a document, or None when it has no pages.

    Args:
        metadata: The document's metadata; ``page_starts`` holds each page's first offset.
        start: A passage's start offset in the document text.
    """
    starts = metadata.get("page_starts")
    if not isinstance(starts, list) or not starts or start < 0:
        return None
    return max(1, bisect.bisect_right(starts, start))
