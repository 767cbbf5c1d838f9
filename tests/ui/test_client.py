"""The page's API client: what it sends, how it reads answers, and the errors it raises."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import httpx
import pytest

from search_api.contract import Health, SearchRequest, Span, Speaker, Unavailable
from ui.client import DEFAULT_API_URL, ApiClient, ApiError, ApiUnreachable

HIT = {
    "rank": 1,
    "score": 0.91,
    "passage_id": 7,
    "doc_id": "000_2ab4845599296aef.txt",
    "title": "US backs guarantees",
    "section": None,
    "text": "Polish Prime Minister Donald Tusk welcomed the guarantees.",
    "start": 1234,
    "end": 1292,
    "highlights": [{"start": 0, "end": 58}],
    "speakers": [
        {
            "speaker": "Donald Tusk",
            "title": "Polish Prime Minister",
            "affiliations": ["country:PL"],
            "affiliation_names": ["Poland"],
        }
    ],
    "entities": [{"id": "country:PL", "name": "Poland"}],
}


def client_for(handler: Callable[[httpx.Request], httpx.Response], **kwargs: str) -> ApiClient:
    return ApiClient("http://api.test", transport=httpx.MockTransport(handler), **kwargs)


def test_search_posts_the_request_and_reads_typed_hits() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"query": "q", "mode": "dense", "took_ms": 4.2, "results": [HIT]})

    with client_for(handler) as client:
        response = client.search(
            SearchRequest(query="What did Poland say?", k=3, mode="dense", speaker="Donald Tusk")
        )

    assert seen[0].method == "POST" and seen[0].url.path == "/search"
    assert json.loads(seen[0].content) == {
        "query": "What did Poland say?",
        "k": 3,
        "mode": "dense",
        "doc_id": None,
        "speaker": "Donald Tusk",
        "entity": None,
        "since": None,
        "until": None,
        "sort": "relevance",
    }
    assert response.took_ms == 4.2
    (hit,) = response.results
    assert hit.highlights == [Span(start=0, end=58)]
    assert hit.speakers == [
        Speaker(
            speaker="Donald Tusk", title="Polish Prime Minister", affiliations=["country:PL"],
            affiliation_names=["Poland"],
        )
    ]
    assert hit.why is None
    assert hit.entities[0].name == "Poland"
    assert hit.section is None


def test_api_key_is_sent_when_configured() -> None:
    keys: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers.get("X-API-Key"))
        return httpx.Response(200, json={"documents": [], "speakers": [], "entities": []})

    client_for(handler, api_key="s3cret").facets()
    client_for(handler).facets()
    assert keys == ["s3cret", None]


def test_from_env_reads_url_and_key() -> None:
    client = ApiClient.from_env({"SEEDSEARCH_API_URL": "http://10.0.0.5:9000/", "SEEDSEARCH_API_KEY": "k"})
    assert client.base_url == "http://10.0.0.5:9000"
    assert client._http.headers["X-API-Key"] == "k"
    assert ApiClient.from_env({}).base_url == DEFAULT_API_URL


def test_health_503_is_an_answer_not_an_error() -> None:
    detail = "no index loaded from /x: build one with `seedsearch build --index /x`"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"detail": detail, "building": True})

    health = client_for(handler).health()
    assert isinstance(health, Unavailable) and health.building and health.detail == detail


def test_health_ok_reads_counts_and_building() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "ok", "documents": 2, "passages": 30, "building": True})

    health = client_for(handler).health()
    assert isinstance(health, Health) and health.documents == 2 and health.passages == 30 and health.building


def test_validation_error_becomes_api_error_with_readable_detail() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422, json={"detail": [{"loc": ["body", "query"], "msg": "the query is empty", "type": "value_error"}]}
        )

    with pytest.raises(ApiError) as caught:
        client_for(handler).search(SearchRequest.model_construct(query=" "))
    assert caught.value.status == 422
    assert caught.value.detail == "query: the query is empty"


def test_401_keeps_status_and_detail() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"detail": "missing or wrong X-API-Key"})

    with pytest.raises(ApiError) as caught:
        client_for(handler).stats()
    assert (caught.value.status, caught.value.detail) == (401, "missing or wrong X-API-Key")


def test_non_json_or_foreign_answers_are_api_errors() -> None:
    def html_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>not the API</html>")

    def other_json(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"hello": "world"})

    with pytest.raises(ApiError, match="is http://api.test a seedsearch API"):
        client_for(html_page).stats()
    with pytest.raises(ApiError, match="is http://api.test a seedsearch API"):
        client_for(other_json).stats()


def test_context_asks_for_the_window_and_marks_the_hit() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/passages/7/context" and request.url.params["window"] == "2"
        passages = [
            {"passage_id": i, "position": i, "section": None, "text": f"p{i}", "start": 0, "end": 2, "is_hit": i == 7}
            for i in (6, 7, 8)
        ]
        return httpx.Response(200, json={"doc_id": "d", "title": "T", "passages": passages})

    context = client_for(handler).context(7, window=2)
    assert [p.passage_id for p in context.passages if p.is_hit] == [7]


def test_refused_connection_is_unreachable_with_the_url() -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ApiClient(f"http://127.0.0.1:{port}", timeout=2.0)
    with pytest.raises(ApiUnreachable) as caught:
        client.health()
    assert caught.value.url == f"http://127.0.0.1:{port}"
    assert str(port) in str(caught.value)


def test_timeout_is_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ApiUnreachable):
        client_for(handler).search(SearchRequest(query="q"))
