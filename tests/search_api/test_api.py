"""The HTTP contract, with the app really started (lifespan) over a small index and the fake embedder."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from indexer.build import build_index
from indexer.embedding import FakeEmbedder
from indexer.settings import EncoderSettings
from search_api.app import create_app
from search_api.contract import MAX_METADATA_DEPTH
from search_api.settings import ServerSettings

FIELDS = {"rank", "score", "passage_id", "passages", "doc_id", "title", "section", "text", "start", "end", "highlights",
          "speakers", "entities", "why", "page", "published"}


def make_client(index_dir: Path, **settings: object) -> TestClient:
    app = create_app(
        ServerSettings(**settings), encoder=EncoderSettings(index=index_dir), embedder=FakeEmbedder(dimension=32)
    )
    return TestClient(app)


@pytest.fixture
def client(fake_index: Path) -> Iterator[TestClient]:
    with make_client(fake_index) as c:
        yield c


def test_search_get_answers_with_the_contract_fields(client: TestClient) -> None:
    response = client.get("/search", params={"q": "cocoa arrivals bags", "k": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"query", "mode", "took_ms", "results"}
    assert body["query"] == "cocoa arrivals bags" and body["mode"] == "hybrid"
    assert 1 <= len(body["results"]) <= 3
    first = body["results"][0]
    assert set(first) == FIELDS
    assert first["rank"] == 1 and first["doc_id"] == "cocoa.txt"
    assert [r["rank"] for r in body["results"]] == list(range(1, len(body["results"]) + 1))
    for span in first["highlights"]:
        assert 0 <= span["start"] < span["end"] <= len(first["text"])


def test_search_post_equals_get(client: TestClient) -> None:
    got = client.get("/search", params={"q": "Greenland belongs to its people", "k": 4}).json()
    posted = client.post("/search", json={"query": "Greenland belongs to its people", "k": 4}).json()
    assert [r["passage_id"] for r in got["results"]] == [r["passage_id"] for r in posted["results"]]


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_each_mode_finds_an_exact_phrase(client: TestClient, mode: str) -> None:
    response = client.post("/search", json={"query": "Bahia cocoa zone showers", "k": 5, "mode": mode})
    assert response.status_code == 200
    assert any("Bahia" in r["text"] for r in response.json()["results"])


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"query": "   "}, "empty"),
        ({"query": "x" * 2001}, "2000"),
        ({"query": "a\x00b"}, "control character"),
        ({"query": "ok", "k": 0}, "greater than or equal to 1"),
        ({"query": "ok", "k": 101}, "less than or equal to 100"),
        ({"query": "ok", "k": "5"}, "integer"),
        ({"query": "ok", "k": 2.5}, "integer"),
        ({"query": 7}, "string"),
        ({"query": "ok", "mode": "fuzzy"}, "hybrid"),
        ({"query": "ok", "colour": "red"}, "Extra inputs"),
        ({}, "Field required"),
    ],
)
def test_bad_search_bodies_are_422_saying_what_is_wrong(client: TestClient, payload: dict, needle: str) -> None:
    response = client.post("/search", json=payload)
    assert response.status_code == 422, response.text
    assert needle in str(response.json()["detail"])


def test_invalid_json_is_422(client: TestClient) -> None:
    response = client.post("/search", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "JSON" in str(response.json()["detail"])


@pytest.mark.parametrize("params", [{"q": ""}, {"q": "ok", "k": "abc"}, {"q": "ok", "k": "-1"}, {"k": "3"}])
def test_bad_query_strings_are_422(client: TestClient, params: dict) -> None:
    response = client.get("/search", params=params)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_huge_body_is_413(client: TestClient) -> None:
    response = client.post("/search", content=b'{"query": "' + b"a" * 10_000_000 + b'"}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert client.get("/health").status_code == 200


def test_health_stats_documents_context_facets(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["documents"] == 3 and health["building"] is False
    stats = client.get("/stats").json()
    assert stats["model"] == "fake" and stats["dimension"] == 32 and stats["passages"] == health["passages"]
    document = client.get("/documents/cocoa.txt").json()
    assert document["title"] == "Cocoa harvest" and "Bahia" in document["text"]
    hit = client.get("/search", params={"q": "Arrivals of cocoa beans", "k": 1}).json()["results"][0]
    context = client.get(f"/passages/{hit['passage_id']}/context", params={"window": 1}).json()
    assert any(p["is_hit"] for p in context["passages"]) and len(context["passages"]) >= 2
    facets = client.get("/facets").json()
    assert {d["doc_id"] for d in facets["documents"]} == {"000_2ab4845599296aef.txt", "cocoa.txt", "script.md"}


@pytest.mark.parametrize("doc_id", ["missing.txt", "../../etc/passwd", "..%2F..%2Fetc%2Fpasswd"])
def test_unknown_documents_are_404_and_never_read_files(client: TestClient, doc_id: str) -> None:
    response = client.get(f"/documents/{doc_id}")
    assert response.status_code == 404
    assert "root:" not in response.text
    assert "no document" in response.json()["detail"] or "/docs" in response.json()["detail"]


def test_unknown_passage_context_is_404(client: TestClient) -> None:
    assert client.get("/passages/999999/context").status_code == 404


def test_filters_restrict_results(client: TestClient) -> None:
    response = client.get("/search", params={"q": "rain and showers", "doc_id": "cocoa.txt", "k": 10})
    assert {r["doc_id"] for r in response.json()["results"]} == {"cocoa.txt"}
    unknown = client.get("/search", params={"q": "x", "entity": "Atlantis"})
    assert unknown.status_code == 422 and "Atlantis" in unknown.json()["detail"]


def test_no_index_is_503_with_how_to_build(tmp_path: Path) -> None:
    with make_client(tmp_path / "missing") as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert "seedsearch build" in health.json()["detail"]
        search = client.get("/search", params={"q": "anything"})
        assert search.status_code == 503 and "seedsearch build" in search.json()["detail"]


def test_api_key_guards_everything_but_health(fake_index: Path) -> None:
    with make_client(fake_index, api_key="s3cret") as client:
        assert client.get("/health").status_code == 200
        assert client.get("/search", params={"q": "cocoa"}).status_code == 401
        assert client.get("/search", params={"q": "cocoa"}, headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.get("/search", params={"q": "cocoa"}, headers={"X-API-Key": "s3cret"}).status_code == 200
        assert client.post("/admin/reload").status_code == 401
        assert client.post("/admin/reload", headers={"X-API-Key": "s3cret"}).json()["reloaded"] is False


def test_openapi_documents_the_limits(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    request = schema["components"]["schemas"]["SearchRequest"]["properties"]
    assert request["k"]["maximum"] == 100 and request["k"]["minimum"] == 1
    assert client.get("/docs").status_code == 200


# --- answers made consistent (issue 13) ---------------------------------------------------------------


def test_head_health_is_200_like_get(client: TestClient) -> None:
    head = client.head("/health")
    assert head.status_code == 200 and head.content == b""
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize(
    ("filters", "needle"),
    [({"doc_id": "no-such.txt"}, "doc_id"), ({"speaker": "Nobody Atall"}, "speaker"), ({"entity": "Atlantis"}, "")],
)
def test_a_filter_naming_nothing_in_the_index_is_the_same_422_on_get_and_post(
    client: TestClient, filters: dict[str, str], needle: str
) -> None:
    got = client.get("/search", params={"q": "cocoa", **filters})
    posted = client.post("/search", json={"query": "cocoa", **filters})
    for response in (got, posted):
        assert response.status_code == 422, response.text
        assert next(iter(filters.values())) in response.json()["detail"]
        assert "GET /facets" in response.json()["detail"] and needle in response.json()["detail"]


def test_a_known_filter_that_matches_nothing_with_the_question_is_an_empty_answer(client: TestClient) -> None:
    response = client.get("/search", params={"q": "cocoa", "doc_id": "cocoa.txt", "speaker": "Donald Tusk"})
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize("raw", ["%ED%A0%80", "caf%E9", "ok%FF"])
def test_query_strings_that_are_not_utf8_are_refused_not_replaced(client: TestClient, raw: str) -> None:
    response = client.get(f"/search?q={raw}")
    assert response.status_code == 422
    assert "not valid UTF-8" in response.json()["detail"]


def test_a_lone_surrogate_in_a_json_body_is_refused_by_name(client: TestClient) -> None:
    body = b'{"query": "what \\ud800 now"}'
    response = client.post("/search", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and "lone surrogate" in str(response.json()["detail"])


def test_metadata_nested_900_deep_is_served_whole(tmp_path: Path) -> None:
    deep: object = "bottom"
    for _ in range(900):
        deep = {"down": deep}
    record = {"id": "deep", "title": "Deep", "text": "A document with very deep metadata.", "nested": deep}
    sources = tmp_path / "docs"
    sources.mkdir()
    (sources / "deep.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    build_index([sources], tmp_path / "index", FakeEmbedder(dimension=32))
    with make_client(tmp_path / "index") as client:
        response = client.get("/documents/deep")
    assert response.status_code == 200, response.text[:300]
    served = response.json()["metadata"]["nested"]
    depth = 0
    while isinstance(served, dict):
        served, depth = served["down"], depth + 1
    assert isinstance(served, str) and depth == MAX_METADATA_DEPTH - 1
    rest: object = json.loads(served)
    while isinstance(rest, dict):
        rest, depth = rest["down"], depth + 1
    assert rest == "bottom" and depth == 900


def test_docs_load_their_scripts_from_this_server_not_a_cdn(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
        assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))], assets
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
    assert "swagger-ui" in client.get("/docs").text


def test_with_a_key_the_docs_open_without_it_only_on_loopback(fake_index: Path) -> None:
    app = create_app(
        ServerSettings(api_key="s3cret"), encoder=EncoderSettings(index=fake_index), embedder=FakeEmbedder(dimension=32)
    )
    with TestClient(app, client=("127.0.0.1", 40000)) as local, TestClient(app, client=("10.1.2.3", 40000)) as remote:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert local.get(path).status_code == 200, path
            assert remote.get(path).status_code == 401, path
        assert local.get("/stats").status_code == 401  # only the docs are open on loopback
        schema = local.get("/openapi.json").json()
        assert "X-API-Key" in json.dumps(schema["components"]["securitySchemes"])  # Swagger's Authorize button
