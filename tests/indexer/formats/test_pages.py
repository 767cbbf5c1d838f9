"""Pages joined so that each passage's page can be found from its start offset."""

from __future__ import annotations

from indexer.formats.pages import join_pages, page_of


def test_join_pages_keeps_each_page_start() -> None:
    text, starts = join_pages(["Page one text.", "", "Page three text.\n"])
    assert text == "Page one text.\n\nPage three text.\n"
    assert starts == [0, 16, 16]
    assert text[starts[2] :].startswith("Page three")


def test_page_of_is_one_based_and_skips_empty_pages() -> None:
    metadata = {"page_starts": [0, 16, 16, 40]}
    assert page_of(metadata, 0) == 1
    assert page_of(metadata, 15) == 1
    assert page_of(metadata, 16) == 3  # page 2 is empty: the text there is page 3's
    assert page_of(metadata, 39) == 3
    assert page_of(metadata, 40) == 4
    assert page_of(metadata, 10_000) == 4


def test_page_of_without_pages_is_none() -> None:
    assert page_of({}, 5) is None
    assert page_of({"page_starts": "nonsense"}, 5) is None
    assert page_of({"page_starts": [0]}, -1) is None
