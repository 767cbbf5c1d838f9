"""Bad requests are a 4xx that says what is wrong (never a 5xx), and the server's defences: loopback by default,
the API key on everything but /health, CORS closed unless configured, a body size limit, no text or keys in
the logs."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from indexer.build import build_index
from indexer.embedding import FakeEmbedder
from indexer.settings import EncoderSettings
from search_api.app import create_app
from search_api.settings import ServerSettings
from seedsearch import cli

KEY = "k3y-S3ntinel-0123456789"


def make_client(index_dir: Path, **settings: object) -> TestClient:
    app = create_app(
        ServerSettings(**settings), encoder=EncoderSettings(index=index_dir), embedder=FakeEmbedder(dimension=32)
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(fake_index: Path) -> Iterator[TestClient]:
    with make_client(fake_index) as c:
        yield c


@pytest.fixture
def keyed(fake_index: Path) -> Iterator[TestClient]:
    with make_client(fake_index, api_key=KEY) as c:
        yield c


def assert_says(response: object, status: int, *needles: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    detail = str(response.json()["detail"])  # type: ignore[attr-defined]
    for needle in needles:
        assert needle.lower() in detail.lower(), detail


# --- bad requests ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b'{"query": "\\ud800"}', "lone surrogate"),
        (b'{"query": "what \\udfff is this"}', "lone surrogate"),
        (b'{"query": "bell \\u0007 ring"}', "U+0007"),
        (b'{"query": "\\u001b[31mred"}', "U+001B"),
        (b'{"query": "\\t \\n \\r "}', "empty"),
        (b'{"query": "ok", "k": 1e400}', "integer"),
        (b'{"query": "ok", "k": true}', "integer"),
        (b'{"query": "ok", "k": null}', "integer"),
        (b'{"query": "ok", "k": -3}', "greater than or equal to 1"),
        (b'{"query": ["a", "b"]}', "string"),
        (b'{"query": "ok", "doc_id": "a\\u0000b"}', "control characters"),
        (b'{"query": "ok", "mode": "HYBRID"}', "hybrid"),
        (b'{"query": "ok", "query": 5}', "string"),
        (b'["query", "ok"]', "object"),
        (b'"ok"', "object"),
        (b"null", "object"),
        (b"", "Field required"),
        (b'{"query": "ok"', "JSON"),
        (b'{"query": "\xff\xfe"}', "UTF-8"),
    ],
)
def test_bad_json_bodies_are_422_saying_what_is_wrong(client: TestClient, raw: bytes, needle: str) -> None:
    response = client.post("/search", content=raw, headers={"content-type": "application/json"})
    assert_says(response, 422, needle)


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"q": "a\x00b"}, "U+0000"),
        ({"q": "a\x7fb"}, "U+007F"),
        ({"q": "   "}, "empty"),
        ({"q": "x" * 2001}, "2000"),
        ({"q": "ok", "k": "5.5"}, "integer"),
        ({"q": "ok", "k": "1e2"}, "integer"),
        ({"q": "ok", "k": "0"}, "greater than or equal to 1"),
        ({"q": "ok", "k": "101"}, "less than or equal to 100"),
        ({"q": "ok", "mode": "semantic"}, "hybrid"),
        ({"q": "ok", "speaker": "x" * 501}, "500"),
    ],
)
def test_bad_query_strings_are_422_saying_what_is_wrong(client: TestClient, params: dict, needle: str) -> None:
    assert_says(client.get("/search", params=params), 422, needle)


def test_a_chunked_body_without_content_length_is_limited_too(client: TestClient) -> None:
    def ten_megabytes() -> Iterator[bytes]:
        yield b'{"query": "'
        for _ in range(160):
            yield b"a" * 65_536
        yield b'"}'

    response = client.post("/search", content=ten_megabytes(), headers={"content-type": "application/json"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_says(response, 413, "larger than")
    small = client.post("/search", content=iter([b'{"query": "cocoa', b' arrivals"}']),
                        headers={"content-type": "application/json"})
    assert small.status_code == 200 and small.json()["results"]


@pytest.mark.parametrize(
    "path",
    ["/documents/..%2F..%2F..%2Fetc%2Fpasswd", "/documents/%2Fetc%2Fpasswd", "/documents//etc/passwd",
     "/documents/%2e%2e/%2e%2e/etc/passwd", "/documents/seeds%2F..%2F..%2Fpyproject.toml", "/documents/%00"],
)
def test_path_traversal_in_document_ids_finds_nothing(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, response.text
    assert "root:" not in response.text and "[project]" not in response.text


@pytest.mark.parametrize("path", ["/passages/99999999999999999999999/context", "/passages/0/context",
                                  "/passages/abc/context", "/passages/1/context?window=11"])
def test_bad_passage_ids_are_4xx(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_unknown_routes_and_methods_are_4xx_that_point_to_the_docs(client: TestClient) -> None:
    assert_says(client.get("/nothing/here"), 404, "/docs")
    wrong = client.delete("/search")
    assert_says(wrong, 405, "GET", "POST")
    assert set(wrong.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_the_server_stays_healthy_after_every_bad_request(client: TestClient) -> None:
    bad_bodies = (b'{"query": "\\ud800"}', b"\xff" * 100, b'{"query": "' + b"x" * 70_000 + b'"}', b"{" * 10_000,
                  b"[" * 60_000)
    for raw in bad_bodies:
        response = client.post("/search", content=raw, headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500, response.text
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/search", params={"q": "cocoa arrivals"}).status_code == 200


# --- binding, keys, CORS ----------------------------------------------------------------------------


@pytest.fixture
def captured_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    import uvicorn

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    monkeypatch.setattr(cli, "_embedder", lambda settings: FakeEmbedder(dimension=32))
    monkeypatch.delenv("SEEDSEARCH_HOST", raising=False)
    return calls


def test_serve_binds_loopback_unless_told_otherwise(fake_index: Path, captured_run: list[dict[str, object]]) -> None:
    runner = CliRunner()
    assert runner.invoke(cli.app, ["serve", "--index", str(fake_index)]).exit_code == 0
    assert runner.invoke(cli.app, ["serve", "--index", str(fake_index), "--host", "0.0.0.0"]).exit_code == 0
    assert [call["host"] for call in captured_run] == ["127.0.0.1", "0.0.0.0"]
    assert ServerSettings().host == "127.0.0.1"


def every_path(client: TestClient) -> list[str]:
    """One concrete URL per route of the app (path parameters filled in), plus the docs and an unknown path."""
    paths = []
    for route in client.app.state.routes:  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        if path and path != "/health":
            paths.append(path.replace("{doc_id:path}", "cocoa.txt").replace("{passage_id}", "1"))
    return sorted(set(paths) | {"/docs", "/redoc", "/openapi.json", "/no/such/path"})


def test_every_endpoint_but_health_needs_the_key(keyed: TestClient) -> None:
    paths = every_path(keyed)
    assert {"/search", "/stats", "/facets", "/admin/reload", "/documents/cocoa.txt"} <= set(paths)
    for path in paths:
        for method in ("GET", "POST"):
            for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY[:-1]}, {"X-API-Key": KEY + "0"}):
                response = keyed.request(method, path, headers=headers)
                assert response.status_code == 401, (method, path, headers, response.status_code)
                assert "X-API-Key" in response.json()["detail"]
                assert KEY not in response.text
    assert keyed.get("/health").status_code == 200
    with_key = {"X-API-Key": KEY}
    for path in ("/search?q=cocoa", "/stats", "/facets", "/documents/cocoa.txt", "/docs", "/openapi.json"):
        assert keyed.get(path, headers=with_key).status_code == 200, path
    assert keyed.post("/admin/reload", headers=with_key).status_code == 200


def test_keys_are_compared_in_constant_time(fake_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: object, b: object) -> bool:
        compared.append((a, b))
        return real(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(hmac, "compare_digest", spy)
    with make_client(fake_index, api_key=KEY) as client:
        assert client.get("/stats", headers={"X-API-Key": "nope"}).status_code == 401
        assert client.get("/stats", headers={"X-API-Key": KEY}).status_code == 200
    assert len(compared) >= 2 and all(KEY.encode() in pair for pair in compared)


def test_admin_endpoints_always_need_a_key(client: TestClient) -> None:
    assert_says(client.post("/admin/reload"), 403, "SEEDSEARCH_API_KEY")
    assert_says(client.post("/admin/reload", headers={"X-API-Key": ""}), 403, "SEEDSEARCH_API_KEY")


def test_cors_is_closed_unless_configured(fake_index: Path, client: TestClient) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/search", headers=preflight).headers
    assert "access-control-allow-origin" not in client.get(
        "/search", params={"q": "cocoa"}, headers={"Origin": "https://evil.example"}
    ).headers
    with make_client(fake_index, cors_origins=["https://ok.example"], api_key=KEY) as open_client:
        allowed = open_client.options(
            "/search", headers={"Origin": "https://ok.example", "Access-Control-Request-Method": "POST"}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://ok.example"
        refused = open_client.options("/search", headers=preflight)
        assert "access-control-allow-origin" not in refused.headers
        answer = open_client.get("/search", params={"q": "cocoa"},
                                 headers={"Origin": "https://ok.example", "X-API-Key": KEY})
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "https://ok.example"


def test_request_bodies_are_limited(fake_index: Path) -> None:
    assert ServerSettings().max_body_bytes <= 1_000_000
    with make_client(fake_index, max_body_bytes=2048) as client:
        body = b'{"query": "' + b"a" * 3000 + b'"}'
        assert_says(client.post("/search", content=body, headers={"content-type": "application/json"}), 413, "2048")
        assert client.post("/search", json={"query": "cocoa"}).status_code == 200


# --- logs --------------------------------------------------------------------------------------------


SECRET_TEXT = "Quetzalcoatl sentinel sentence about obsidian mirrors"


def test_no_document_text_query_or_key_in_logs_above_debug(
    tmp_path: Path, seed_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.test_bad_indexes import publish_broken

    caplog.set_level(logging.DEBUG)
    (seed_copy / "secret.txt").write_text(f"Secret note\n\n{SECRET_TEXT}.\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    build_index([seed_copy], index_dir, FakeEmbedder(dimension=32))
    with make_client(index_dir, api_key=KEY, reload_interval_s=3600) as client:  # reloads come from /admin/reload only
        headers = {"X-API-Key": KEY}
        client.get("/search", params={"q": "obsidian mirrors Quetzalcoatl"}, headers=headers)
        client.post("/search", json={"query": "obsidian mirrors", "k": 3}, headers=headers)
        client.post("/search", json={"query": "obsidian \u0007"}, headers=headers)
        client.get("/search", params={"q": "obsidian"}, headers={"X-API-Key": KEY + "x"})
        client.get("/documents/secret.txt", headers=headers)
        (seed_copy / "secret.txt").write_text(f"Secret note\n\n{SECRET_TEXT}, revised.\n", encoding="utf-8")
        build_index([seed_copy], index_dir, FakeEmbedder(dimension=32))
        assert client.post("/admin/reload", headers=headers).json()["reloaded"] is True
        publish_broken(index_dir, "sqlite garbage")
        assert client.post("/admin/reload", headers=headers).json()["reloaded"] is False
    client_side = ("httpx", "httpcore")  # the test's own HTTP client logs its URLs; the server is what is tested
    visible = [r for r in caplog.records if r.levelno > logging.DEBUG and not r.name.startswith(client_side)]
    assert any("kept the previous index" in r.getMessage() for r in visible), "the capture saw nothing"
    for record in visible:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        for secret in ("Quetzalcoatl", "obsidian", KEY):
            assert secret not in text, (record.name, record.levelname, text[:300])


def test_no_answer_may_be_cached_not_even_an_error(keyed: TestClient) -> None:
    """Results change with every build, so every answer says `no-store`: searches, errors and the key gate's 401."""
    key = {"X-API-Key": KEY}
    answers = [
        keyed.get("/search", params={"q": "cocoa"}, headers=key),
        keyed.post("/search", json={"query": "cocoa"}, headers=key),
        keyed.get("/search", params={"q": ""}, headers=key),
        keyed.get("/no-such-endpoint", headers=key),
        keyed.get("/search", params={"q": "cocoa"}),
        keyed.get("/health"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 422, 404, 401, 200]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store", answer.request.url
