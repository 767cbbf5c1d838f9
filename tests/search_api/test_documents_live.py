"""A real `seedsearch serve` (real model): a PDF and an HTML page added by POST /documents are found within 2 s,
a deleted one is gone, and searches running the whole time never fail."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.indexer.formats.fixtures import PdfPage, html_page, two_column_pdf
from tests.search_api.test_reload import ENV, Load, Server, served_copy, serving  # noqa: F401 (fixture)

KEY = "live-test-key"
HEADERS = {"X-API-Key": KEY}
VISIBLE_WITHIN_S = 2.0
PDF_SENTENCE = "Reindeer herders moved their animals across the frozen Tana river before the thaw."
HTML_SENTENCE = "Volunteers replanted seagrass meadows in the shallow bay to shelter young cod."


@pytest.fixture
def keyed_server(served_copy: Path) -> Iterator[Server]:  # noqa: F811
    with serving(served_copy, {**ENV, "SEEDSEARCH_API_KEY": KEY}) as server:
        yield server


def found_within(client: httpx.Client, sentence: str, doc_id: str, deadline_s: float) -> bool:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        hits = client.get("/search", params={"q": sentence, "k": 3}).json()["results"]
        if any(hit["doc_id"] == doc_id and sentence in hit["text"] for hit in hits):
            return True
        time.sleep(0.05)
    return False


def test_add_find_delete_while_searching(keyed_server: Server) -> None:
    left = [PDF_SENTENCE, "The herders said the ice was thinner than in any winter they remembered."]
    right = ["Snow fell early in the valleys, and the roads to the coast closed in October.", "Fuel ran short."]
    pdf = two_column_pdf([PdfPage(left, right), PdfPage(["Spring came late to the fjords."], ["Lakes froze."])])
    html = html_page("Seagrass returns", [HTML_SENTENCE, "The project ran for three summers."])
    uploads = [("tana.pdf", pdf, "application/pdf"), ("seagrass.html", html.encode(), "text/html")]
    with Load(keyed_server.url, clients=3, headers=HEADERS) as load, httpx.Client(
        base_url=keyed_server.url, headers=HEADERS, timeout=60
    ) as client:
        while sum(load.outcomes.values()) < 10 and not load.failures:
            time.sleep(0.05)
        for (name, data, kind), sentence in zip(uploads, (PDF_SENTENCE, HTML_SENTENCE), strict=True):
            response = client.post("/documents", files=[("files", (name, data, kind))])
            assert response.status_code == 200, response.text
            assert [d["doc_id"] for d in response.json()["indexed"]] == [name]
            assert found_within(client, sentence, name, VISIBLE_WITHIN_S), f"{name} not found within 2 s"
        hit = client.get("/search", params={"q": PDF_SENTENCE, "k": 1}).json()["results"][0]
        assert (hit["doc_id"], hit["page"]) == ("tana.pdf", 1)

        assert client.delete("/documents/tana.pdf").status_code == 200
        hits = client.get("/search", params={"q": PDF_SENTENCE, "k": 10}).json()["results"]
        assert all(hit["doc_id"] != "tana.pdf" for hit in hits)
        assert found_within(client, HTML_SENTENCE, "seagrass.html", VISIBLE_WITHIN_S)
        served = sum(load.outcomes.values())
        while sum(load.outcomes.values()) < served + 10 and not load.failures:
            time.sleep(0.05)
    assert load.failures == [], load.failures[:5]
    assert set(load.outcomes) == {"200"}, load.outcomes
