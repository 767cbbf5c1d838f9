"""HTML: the article without its boilerplate, headline as title, sub-headings as sections, page metadata kept."""

from __future__ import annotations

import pytest

from indexer.formats import Extracted, extract
from tests.indexer.formats.fixtures import NEWS_HTML

pytest.importorskip("trafilatura")

BOILERPLATE = (
    "We use cookies",
    "Weather forecast",
    "Related articles",
    "Ferry timetable",
    "All rights reserved",
    "Privacy policy",
)


@pytest.fixture(scope="module")
def article() -> Extracted:
    result = extract(".html", NEWS_HTML.encode("utf-8"))
    assert isinstance(result, Extracted), result
    return result


def test_the_article_text_is_kept(article: Extracted) -> None:
    assert "Dock workers in Port Elling voted on Monday to accept a new wage offer" in article.text
    assert "counted ballots overnight in the dockside canteen." in article.text


@pytest.mark.parametrize("phrase", BOILERPLATE)
def test_navigation_banners_related_lists_and_footers_are_dropped(article: Extracted, phrase: str) -> None:
    assert phrase not in article.text


def test_headline_is_the_title_and_sub_headings_are_markdown_sections(article: Extracted) -> None:
    assert article.title == "Harbour strike ends after nine days"
    assert "\n## Backlog of ships\n" in article.text
    assert "\n## What the vote means\n" in article.text


def test_page_metadata_is_kept(article: Extracted) -> None:
    assert article.metadata["author"] == "Maria Lindqvist"
    assert article.metadata["site_name"] == "The Coastal Gazette"
    assert article.metadata["url"] == "https://gazette.example/news/2026/harbour-strike-ends"
    assert article.metadata["published"] == "2026-11-03"


def test_inline_markup_leaves_no_markdown_emphasis() -> None:
    page = NEWS_HTML.replace("<p>The union said", "<p>The <b>union</b> <i>said</i>")
    result = extract(".html", page.encode("utf-8"))
    assert isinstance(result, Extracted)
    assert "The union said the agreement" in result.text
    assert "*" not in result.text


def test_a_legacy_encoded_page_is_decoded() -> None:
    page = NEWS_HTML.replace('<meta charset="utf-8">', "").replace("Port Elling", "Port Ell\u00e9ng")
    result = extract(".htm", page.encode("cp1252"))
    assert isinstance(result, Extracted)
    assert "Port Ell\u00e9ng" in result.text


def test_a_page_without_an_article_is_skipped_with_the_reason() -> None:
    page = "<html><head><script>var x = 1;</script></head><body><div><script>render();</script></div></body></html>"
    assert extract(".html", page.encode()) == "no main text found in the page (only navigation, scripts or markup)"


def test_a_pdf_named_html_is_skipped_as_mislabelled() -> None:
    reason = extract(".html", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    assert reason == "the file is a PDF but its name ends in .html; rename it to .pdf to index it"
