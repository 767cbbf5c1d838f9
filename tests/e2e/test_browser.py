"""The page in a real Chromium, against the real API and an index built by the CLI."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from tests.e2e.harness import REPO, Servers

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "artifacts" / "screenshots"
DOCS = REPO / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
POLAND = "What did Poland say?"
RESULT_TIMEOUT_MS = 60_000
SEARCH_BOX = ".st-key-q_input input"  # the page has other text inputs (dates, the upload key)


@pytest.fixture
def open_page(browser: Any, servers: Servers, dialogs: list[str]) -> Iterator[Callable[..., Any]]:
    """Open the page in a fresh browser context (a fresh Streamlit session) of the given size."""
    contexts: list[Any] = []

    def _open(viewport: dict[str, int], query: str = "") -> Any:
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(servers.page_url + (f"/?q={quote_plus(query)}" if query else "/"))
        page.locator(SEARCH_BOX).wait_for(timeout=RESULT_TIMEOUT_MS)
        return page

    yield _open
    for context in contexts:
        context.close()


def ask(page: Any, question: str) -> Any:
    """Type a question, press Enter, and return the first result card once it shows."""
    box = page.locator(SEARCH_BOX)
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "q => new URLSearchParams(location.search).get('q') === q", arg=question, timeout=RESULT_TIMEOUT_MS
    )
    first = page.locator(".ss-card").first
    first.wait_for(timeout=RESULT_TIMEOUT_MS)
    return first


def screenshot(page: Any, name: str) -> None:
    """Save under artifacts/screenshots/ (git-ignored); with SEEDSEARCH_UPDATE_SCREENSHOTS=1 also refresh the
    README's copies in docs/screenshots/ (a test run must not dirty the tracked tree)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring, no hints
    page.wait_for_timeout(800)  # let fonts and the score bars settle
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    if os.environ.get("SEEDSEARCH_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS / name)


def test_first_visit_shows_examples_and_the_index(open_page: Callable[..., Any], dialogs: list[str]) -> None:
    page = open_page(DESKTOP)
    page.get_by_role("button", name=POLAND).wait_for(timeout=RESULT_TIMEOUT_MS)
    page.get_by_text("API answering").wait_for()
    page.get_by_text("Documents").first.wait_for()
    assert page.locator(".ss-card").count() == 0
    screenshot(page, "first-visit-1280x900.png")
    assert dialogs == []


def test_poland_question_finds_tusk_with_highlight(open_page: Callable[..., Any], dialogs: list[str]) -> None:
    page = open_page(DESKTOP)
    first = ask(page, POLAND)
    assert "Donald Tusk" in first.inner_text()
    highlighted = " ".join(first.locator("mark").all_inner_texts())
    assert "Donald Tusk" in highlighted, highlighted
    assert "Donald Tusk" in first.locator(".ss-chip-speaker").all_inner_texts()[0]
    page.get_by_text(re.compile(r"\d+(\.\d+)? ms")).first.wait_for()
    screenshot(page, "search-1280x900.png")

    page.locator(".st-key-card_1").get_by_text("Context in the document").click()
    hit = page.locator(".ss-ctx-hit").first
    hit.wait_for(timeout=RESULT_TIMEOUT_MS)
    assert "Donald Tusk" in hit.inner_text()
    assert dialogs == []


def test_shared_link_runs_the_search_at_phone_width(open_page: Callable[..., Any], dialogs: list[str]) -> None:
    page = open_page(PHONE, query=POLAND)
    first = page.locator(".ss-card").first
    first.wait_for(timeout=RESULT_TIMEOUT_MS)
    assert "Donald Tusk" in first.inner_text()
    assert page.locator(SEARCH_BOX).input_value() == POLAND
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at phone width ({width}px)"
    screenshot(page, "search-390x844.png")
    assert dialogs == []


def test_markup_in_a_document_is_shown_as_text(open_page: Callable[..., Any], dialogs: list[str]) -> None:
    page = open_page(DESKTOP)
    ask(page, "security note that quotes hostile markup")
    card = page.locator(".ss-card", has_text="<script>alert(1)</script>").first
    card.wait_for(timeout=RESULT_TIMEOUT_MS)
    text = card.inner_text()
    assert "<img src=x onerror=alert(1)>" in text
    assert "*these stars*" in text and "[this link](javascript:alert(1))" in text
    assert card.locator("script, img, a").count() == 0
    page.wait_for_timeout(1000)  # an injected handler would have fired by now
    assert dialogs == []


def test_a_file_uploaded_through_the_page_is_found(
    open_page: Callable[..., Any], dialogs: list[str], tmp_path: Path
) -> None:
    from tests.e2e.harness import API_KEY
    from tests.indexer.formats.fixtures import html_page

    upload = tmp_path / "puffins.html"
    upload.write_text(
        html_page("Puffin colony counted", ["Wardens counted eleven thousand puffin burrows on the island cliffs."]),
        encoding="utf-8",
    )
    page = open_page(DESKTOP)
    page.get_by_text("Add documents").click()
    page.locator(".st-key-upload_key input").fill(API_KEY)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
    page.get_by_role("button", name="Add to the index").click()
    page.get_by_text("Added “Puffin colony counted”").wait_for(timeout=RESULT_TIMEOUT_MS)
    first = ask(page, "How many puffin burrows did the wardens count?")
    assert "Puffin colony counted" in first.inner_text()
    assert dialogs == []
