"""POST and DELETE /documents on a started app (fake embedder): keyed, size-limited, searchable at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.indexer.formats.fixtures import PdfPage, html_page, two_column_pdf
from tests.search_api.test_api import make_client

KEY = "s3cret-key"
HEADERS = {"X-API-Key": KEY}


@pytest.fixture
def keyed(fake_index: Path) -> Iterator[TestClient]:
    with make_client(fake_index, api_key=KEY, max_upload_bytes=200_000) as c:
        yield c


def found(client: TestClient, question: str) -> set[str]:
    response = client.get("/search", params={"q": question, "mode": "lexical", "k": 10}, headers=HEADERS)
    assert response.status_code == 200, response.text
    return {hit["doc_id"] for hit in response.json()["results"]}


def test_upload_pdf_and_html_then_delete(keyed: TestClient) -> None:
    pdf = two_column_pdf([PdfPage(["Narwhals gathered near the icebreaker at dawn."], ["Cold water."])])
    html = html_page("Lighthouse restored", ["The old lighthouse keeper's cottage reopened as a museum."])
    response = keyed.post(
        "/documents",
        files=[("files", ("narwhals.pdf", pdf, "application/pdf")), ("files", ("light.html", html, "text/html"))],
        headers=HEADERS,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert {d["doc_id"] for d in body["indexed"]} == {"narwhals.pdf", "light.html"}
    assert all(d["passages"] >= 1 for d in body["indexed"]) and body["build"]
    assert "narwhals.pdf" in found(keyed, "narwhals icebreaker dawn")  # served before the answer came back
    assert "light.html" in found(keyed, "lighthouse keeper cottage museum")
    hit = keyed.get("/search", params={"q": "narwhals icebreaker", "mode": "lexical"}, headers=HEADERS).json()
    assert hit["results"][0]["page"] == 1

    deleted = keyed.delete("/documents/narwhals.pdf", headers=HEADERS)
    assert deleted.status_code == 200 and deleted.json()["removed"] == ["narwhals.pdf"]
    assert "narwhals.pdf" not in found(keyed, "narwhals icebreaker dawn")
    assert keyed.delete("/documents/narwhals.pdf", headers=HEADERS).status_code == 404


def test_json_document_with_a_date(keyed: TestClient) -> None:
    document = {"id": "memo/7", "title": "Memo", "text": "Beekeepers reported a record honey harvest.",
                "metadata": {"date": "2026-11-02", "author": "Ana", "_id": "hijack"}}
    response = keyed.post("/documents", json=document, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert response.json()["indexed"] == [{"doc_id": "memo/7", "title": "Memo", "passages": 1}]
    hits = keyed.get("/search", params={"q": "honey harvest", "since": "2026-11-01"}, headers=HEADERS).json()
    assert [h["doc_id"] for h in hits["results"]] == ["memo/7"] and hits["results"][0]["published"] == "2026-11-02"
    assert keyed.delete("/documents/memo/7", headers=HEADERS).status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "status", "needle"),
    [
        ({"json": {"id": "x", "text": ""}}, 422, "text"),
        ({"json": {"id": "x", "text": "ok", "colour": 1}}, 422, "Extra inputs"),
        ({"content": b"plain", "headers": {"content-type": "text/plain"}}, 422, "multipart/form-data"),
        ({"files": [("files", ("scan.pdf", b"%PDF-1.4 broken", "application/pdf"))]}, 422, "scan.pdf"),
        ({"files": [("other", ("a.txt", b"text", "text/plain"))]}, 422, "named 'files'"),
        ({"files": [("files", ("big.txt", b"x" * 300_000, "text/plain"))]}, 413, "SEEDSEARCH_MAX_UPLOAD_BYTES"),
    ],
)
def test_bad_uploads_say_why(keyed: TestClient, kwargs: dict[str, object], status: int, needle: str) -> None:
    headers = {**HEADERS, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    response = keyed.post("/documents", headers=headers, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert needle in response.text


def test_the_upload_limit_is_apart_from_the_search_limit(keyed: TestClient) -> None:
    text = ("Walruses haul out on the gravel beach in late summer. " * 2000).encode()  # ~110 kB: over 64 kB
    response = keyed.post("/documents", files=[("files", ("walrus.txt", text, "text/plain"))], headers=HEADERS)
    assert response.status_code == 200, response.text
    assert keyed.post("/search", content=b'{"query": "' + b"a" * 70_000 + b'"}', headers=HEADERS).status_code == 413


def test_changes_need_a_key(fake_index: Path) -> None:
    with make_client(fake_index) as open_server:
        assert open_server.post("/documents", json={"id": "x", "text": "y"}).status_code == 403
        assert open_server.delete("/documents/cocoa.txt").status_code == 403
    with make_client(fake_index, api_key=KEY) as keyed_server:
        assert keyed_server.post("/documents", json={"id": "x", "text": "y"}).status_code == 401
        assert keyed_server.delete("/documents/cocoa.txt", headers={"X-API-Key": "wrong"}).status_code == 401
