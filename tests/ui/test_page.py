"""The Streamlit page, run by AppTest against a fake API client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from search_api.contract import Health, SearchRequest, Unavailable
from tests.ui.fakes import TUSK_SENTENCE, FakeClient, hit
from ui.client import ApiClient, ApiError
from ui.page import EXAMPLES

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClient]:
    client = FakeClient()
    monkeypatch.setattr(ApiClient, "from_env", classmethod(lambda cls: client))
    yield client


def page(**query_params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params.update(query_params)
    return at.run()


def all_markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def all_text(at: AppTest) -> str:
    """Every message, caption and markdown body on the page (main area and sidebar)."""
    parts = [all_markdown(at)]
    for kind in ("error", "warning", "info", "caption", "code", "metric"):
        parts += [str(getattr(e, "value", "")) for e in at.get(kind)]
    return "\n".join(parts)


def plain(markdown: str) -> str:
    """Markdown with backslash escapes removed, as it reads on screen."""
    return re.sub(r"\\(.)", r"\1", markdown)


def cards(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith('<div class="ss-card">')]


def search(at: AppTest, question: str) -> AppTest:
    at.text_input(key="q_input").input(question)
    return at.button[0].click().run()  # the form's Search button comes first


def test_first_visit_shows_examples_and_does_not_search(fake: FakeClient) -> None:
    at = page()
    assert not at.exception
    labels = [b.label for b in at.button]
    assert all(question in labels for question in EXAMPLES)
    assert fake.searches == []
    assert cards(at) == []
    assert "Searching 1 document, 23 passages: *US backs security guarantees for Ukraine*." in plain(all_text(at))
    assert fake.closed


def test_search_renders_cards_with_highlight_speakers_and_timing(fake: FakeClient) -> None:
    at = search(page(), "What did Poland say?")
    assert not at.exception
    assert fake.searches == [SearchRequest(query="What did Poland say?")]
    (card,) = cards(at)
    assert re.search(r"<mark>(.*?)</mark>", card).group(1) == TUSK_SENTENCE.replace("'", "&#x27;")
    assert "Donald Tusk · Polish Prime Minister" in card
    assert "Poland" in card and "United Kingdom" in card
    assert "Future of Europe at stake" in card
    assert "4.2 ms" in all_text(at)
    assert at.query_params["q"] == "What did Poland say?"


def test_example_button_fills_the_box_and_searches(fake: FakeClient) -> None:
    at = page()
    next(b for b in at.button if b.label == EXAMPLES[1]).click().run()
    assert not at.exception
    assert [r.query for r in fake.searches] == [EXAMPLES[1]]
    assert at.text_input(key="q_input").value == EXAMPLES[1]
    assert len(cards(at)) == 1


def test_question_in_the_address_runs_the_search_on_load(fake: FakeClient) -> None:
    at = page(q="Who commands Nato forces in Europe?")
    assert not at.exception
    assert [r.query for r in fake.searches] == ["Who commands Nato forces in Europe?"]
    assert at.text_input(key="q_input").value == "Who commands Nato forces in Europe?"
    assert len(cards(at)) == 1


def test_filters_from_the_address_are_applied(fake: FakeClient) -> None:
    page(q="guarantees", mode="lexical", k="3", doc="000_seed.txt", speaker="Donald Tusk", entity="country:PL")
    assert fake.searches == [
        SearchRequest(
            query="guarantees", k=3, mode="lexical", doc_id="000_seed.txt", speaker="Donald Tusk", entity="country:PL"
        )
    ]


def test_filters_are_passed_to_the_client_and_kept_in_the_address(fake: FakeClient) -> None:
    at = page(q="guarantees")
    at.radio(key="mode").set_value("dense")
    at.slider(key="k").set_value(10)
    at.selectbox(key="doc").set_value("000_seed.txt")
    at.selectbox(key="speaker").set_value("Keir Starmer")
    at.selectbox(key="entity").set_value("country:GB")
    at.run()
    assert not at.exception
    assert fake.searches[-1] == SearchRequest(
        query="guarantees", k=10, mode="dense", doc_id="000_seed.txt", speaker="Keir Starmer", entity="country:GB"
    )
    assert at.query_params == {
        "q": "guarantees",
        "mode": "dense",
        "k": "10",
        "doc": "000_seed.txt",
        "speaker": "Keir Starmer",
        "entity": "country:GB",
    }
    next(b for b in at.button if b.label == "Clear filters").click().run()
    assert fake.searches[-1] == SearchRequest(query="guarantees", k=10, mode="dense")


def test_filter_options_come_from_facets(fake: FakeClient) -> None:
    at = page()
    assert at.selectbox(key="speaker").options == ["Anyone", "Donald Tusk", "Keir Starmer"]
    assert at.selectbox(key="entity").options == ["Any country", "Poland", "United Kingdom"]
    assert at.selectbox(key="entity").label == "Country"


def test_no_results_says_so_and_offers_examples(fake: FakeClient) -> None:
    fake.hits = ()
    at = page(q="cocoa prices in Bahia")
    assert not at.exception
    assert cards(at) == []
    (info,) = at.info
    assert "No passages match" in info.value and "cocoa prices in Bahia" in info.value
    assert EXAMPLES[0] in [b.label for b in at.button]


def test_api_unreachable_names_the_address_and_how_to_start_it(fake: FakeClient) -> None:
    fake.unreachable = True
    at = page(q="What did Poland say?")
    assert not at.exception
    (error,) = at.error
    assert "http://api.test:8123" in error.value
    assert "seedsearch serve --index index/" in error.value and "make run" in error.value
    assert "API not answering" in all_markdown(at)
    assert cards(at) == []


def test_index_gone_between_health_and_search_explains_how_to_build_it(fake: FakeClient) -> None:
    fake.search_error = ApiError(503, "no index loaded from index: build one")
    at = page(q="What did Poland say?")
    assert not at.exception
    assert "No index is loaded" in at.warning[0].value
    assert "no index loaded from index" in all_text(at)


def test_index_missing_explains_how_to_build_it(fake: FakeClient) -> None:
    fake.health_answer = Unavailable(detail="no index loaded from index: build one")
    at = page(q="What did Poland say?")
    assert not at.exception
    assert "No index is loaded" in at.warning[0].value
    assert "seedsearch build --source seeds/ --index index/" in at.code[0].value
    assert "no index loaded from index" in all_text(at)
    assert fake.searches == []


def test_index_being_built_says_to_wait(fake: FakeClient) -> None:
    fake.health_answer = Unavailable(detail="", building=True)
    at = page(q="What did Poland say?")
    assert not at.exception
    assert "being built" in at.info[0].value
    assert not at.warning and fake.searches == []
    assert "Retry" in [b.label for b in at.button]


def test_rebuild_in_progress_still_shows_results(fake: FakeClient) -> None:
    fake.health_answer = Health(documents=1, passages=23, building=True)
    at = page(q="What did Poland say?")
    assert not at.exception
    assert "rebuild of the index is in progress" in at.info[0].value
    assert len(cards(at)) == 1


def test_script_in_a_document_is_shown_as_text(fake: FakeClient) -> None:
    evil = "Note <script>alert(1)</script> and <img src=x onerror=alert(1)> here."
    fake.hits = (hit(text=evil, title="<script>alert(2)</script>", highlights=(), speakers=(), entities=()),)
    at = page(q="script")
    assert not at.exception
    (card,) = cards(at)
    assert "<script" not in card and "<img" not in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card and "&lt;script&gt;alert(2)" in card


def test_refused_search_shows_the_api_explanation(fake: FakeClient) -> None:
    fake.search_error = ApiError(422, "query: the query has the control character U+0007")
    at = page(q="bell")
    assert not at.exception
    assert "control character U" in at.warning[0].value


def test_wrong_api_key_says_which_setting_to_fix(fake: FakeClient) -> None:
    fake.search_error = ApiError(401, "missing or wrong X-API-Key")
    at = page(q="What did Poland say?")
    assert "SEEDSEARCH_API_KEY" in at.error[0].value


def test_context_loads_only_when_opened(fake: FakeClient) -> None:
    at = page(q="What did Poland say?")
    assert at.get("expander")[0].label == "Context in the document"
    assert fake.contexts == []
    at.session_state["ctx_7"] = True  # what opening the expander does
    at.run()
    assert not at.exception
    assert fake.contexts == [7]
    context = next(m.value for m in at.markdown if m.value.startswith('<div class="ss-ctx">'))
    assert "The passage before the hit." in context and "ss-ctx-hit" in context
    assert len(fake.searches) == 1  # opening the context reused the search answer


def test_sidebar_shows_index_and_api_status(fake: FakeClient) -> None:
    sidebar = page(q="What did Poland say?").sidebar
    assert {m.label: m.value for m in sidebar.metric} == {"Documents": "1", "Passages": "23"}
    text = plain("\n".join([*(m.value for m in sidebar.markdown), *(c.value for c in sidebar.caption)]))
    assert "API answering" in text and "http://api.test:8123" in text
    assert "all-MiniLM-L6-v2" in text
    assert "2025-11-26 15:30" in text
    assert "Last search: 4.2 ms" in text
