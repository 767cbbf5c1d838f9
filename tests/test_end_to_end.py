"""The seed article with the real bundled model, through the HTTP API as clients see it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from indexer.embedding import Embedder
from indexer.settings import EncoderSettings
from search_api.app import create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(real_seed_index: Path, real_embedder: Embedder) -> Iterator[TestClient]:
    with TestClient(create_app(encoder=EncoderSettings(index=real_seed_index), embedder=real_embedder)) as client:
        yield client


def top_texts(api: TestClient, question: str, k: int = 5) -> list[str]:
    response = api.get("/search", params={"q": question, "k": k})
    assert response.status_code == 200, response.text
    return [hit["text"] for hit in response.json()["results"]]


def test_nato_commander_question_answers_with_grynkewich_first(api: TestClient) -> None:
    assert "Alexus Grynkewich" in top_texts(api, "Who commands Nato forces in Europe?")[0]


def test_moscow_demand_is_in_the_top_three(api: TestClient) -> None:
    texts = top_texts(api, "What does Moscow want from a peace deal?", k=3)
    assert any("exclude Ukraine from military alliances" in t for t in texts)


def test_what_did_poland_say_finds_tusk_first_with_his_statement_highlighted(api: TestClient) -> None:
    first = api.get("/search", params={"q": "What did Poland say?"}).json()["results"][0]
    assert "Donald Tusk" in first["text"]
    highlighted = [first["text"][s["start"] : s["end"]] for s in first["highlights"]]
    assert any("Tusk" in h for h in highlighted)
    assert any("country:PL" in s["affiliations"] for s in first["speakers"])


def test_joint_statement_poland_signed_ranks_high(api: TestClient) -> None:
    texts = top_texts(api, "What did Poland say?", k=5)
    assert any("Greenland belongs to its people" in t for t in texts)


@pytest.mark.parametrize("mode", ["dense", "lexical"])
def test_other_modes_still_answer(api: TestClient, mode: str) -> None:
    response = api.get("/search", params={"q": "Who is Nato's top commander in Europe?", "mode": mode, "k": 3})
    assert any("Grynkewich" in hit["text"] for hit in response.json()["results"])
