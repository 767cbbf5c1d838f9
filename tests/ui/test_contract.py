"""The page's client against the real app over HTTP: the contract both sides use cannot drift apart."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from indexer.embedding import FakeEmbedder
from indexer.settings import EncoderSettings
from search_api.app import create_app
from search_api.contract import Health, Mode, SearchRequest, Unavailable
from search_api.settings import ServerSettings
from ui.client import ApiClient, ApiError


def _serve(index_dir: Path) -> Iterator[str]:
    app = create_app(ServerSettings(), encoder=EncoderSettings(index=index_dir), embedder=FakeEmbedder(dimension=32))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    ready = threading.Event()
    while thread.is_alive() and not server.started:
        ready.wait(0.01)  # uvicorn offers no event to wait on; `started` flips once the socket listens
    assert server.started, "the API did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def client(fake_index: Path) -> Iterator[ApiClient]:
    for url in _serve(fake_index):
        with ApiClient(url) as api:
            yield api


def test_every_answer_of_the_real_api_reads_into_the_contract(client: ApiClient) -> None:
    health = client.health()
    assert isinstance(health, Health) and health.documents == 3
    assert client.stats().passages == health.passages
    facets = client.facets()
    assert {d.doc_id for d in facets.documents} >= {"cocoa.txt", "script.md"}
    answer = client.search(SearchRequest(query="cocoa arrivals bags", k=3, mode=Mode.LEXICAL))
    assert answer.mode is Mode.LEXICAL and 1 <= len(answer.results) <= 3
    first = answer.results[0]
    assert first.doc_id == "cocoa.txt" and first.rank == 1
    context = client.context(first.passage_id, window=1)
    assert [p.passage_id for p in context.passages if p.is_hit] == [first.passage_id]


def test_the_apis_refusals_reach_the_page_as_readable_errors(client: ApiClient) -> None:
    with pytest.raises(ApiError) as caught:
        client.search(SearchRequest.model_construct(query="   ", k=5, mode=Mode.HYBRID))
    assert caught.value.status == 422 and "query: the query is empty" in caught.value.detail
    with pytest.raises(ApiError) as unknown:
        client.search(SearchRequest(query="cocoa", doc_id="no-such-document.txt"))
    assert unknown.value.status == 422 and "GET /facets" in unknown.value.detail


def test_no_index_reads_as_unavailable(tmp_path: Path) -> None:
    for url in _serve(tmp_path / "missing"):
        with ApiClient(url) as api:
            health = api.health()
    assert isinstance(health, Unavailable) and "seedsearch build" in health.detail


def test_the_page_imports_no_search_stack() -> None:
    heavy = ("faiss", "torch", "sentence_transformers", "indexer", "search_api.engine", "fastapi")
    probe = f"import sys, ui.page; print([m for m in {heavy!r} if m in sys.modules])"
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]", found.stdout + found.stderr
