"""The `seedsearch` command: composes the indexer, the search API and the page from above."""
