"""The order hits are shown in: by relevance as the engine ranked them, or by date."""

from __future__ import annotations

import dataclasses

from indexer.formats.dates import sort_key
from search_api.contract import Sort
from search_api.engine import SearchResult


def ordered(result: SearchResult, sort: Sort) -> SearchResult:
    """`result` with its hits in the order asked; by date, the same hits newest first, undated last, ranks renumbered.

    Sorting by date orders the `k` most relevant passages, not the whole collection: a semantic search has no
    "matching" set to sort, and the newest passage of all is rarely an answer.
    """
    if sort == Sort.RELEVANCE or len(result.hits) < 2:
        return result
    keyed = [(sort_key(hit.passage.published) or "", hit) for hit in result.hits]
    dated = sorted((pair for pair in keyed if pair[0]), key=lambda pair: pair[0], reverse=True)
    undated = [pair for pair in keyed if not pair[0]]
    hits = [dataclasses.replace(hit, rank=rank) for rank, (_, hit) in enumerate(dated + undated, start=1)]
    return dataclasses.replace(result, hits=hits)
