"""`seedsearch add`, `remove` and the search options for dates (fake model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.embedding import FakeEmbedder
from indexer.settings import EncoderSettings
from tests.indexer.formats.fixtures import html_page
from tests.seedsearch.test_cli import fake_model, invoke  # noqa: F401 (autouse fixture)


def test_add_search_remove(fake_index: Path, tmp_path: Path) -> None:
    page = tmp_path / "kelp.html"
    page.write_text(html_page("Kelp forests", ["Divers counted sea otters among the kelp forests."]), "utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", "utf-8")
    code, out, err = invoke("add", str(page), str(empty), "--index", str(fake_index))
    assert code == 0, err
    assert "indexed kelp.html: Kelp forests" in out and "empty.txt" in err
    code, out, err = invoke("search", "sea otters kelp", "--index", str(fake_index), "--mode", "lexical", "--json")
    assert json.loads(out)["results"][0]["doc_id"] == "kelp.html"
    code, out, err = invoke("remove", "kelp.html", "--index", str(fake_index))
    assert code == 0 and "removed kelp.html" in out, err
    code, out, err = invoke("remove", "kelp.html", "--index", str(fake_index))
    assert code == 1 and "no document 'kelp.html'" in err


def test_search_dates_and_sort(fake_index: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_text(
        json.dumps({"id": "old", "text": "Herring catch fell.", "date": "2001-05-01"}) + "\n"
        + json.dumps({"id": "new", "text": "Herring catch rose.", "date": "2024-05-01"}) + "\n",
        "utf-8",
    )
    assert invoke("add", str(notes), "--index", str(fake_index))[0] == 0
    base = ("search", "herring catch", "--index", str(fake_index), "--mode", "lexical", "--json")
    found = json.loads(invoke(*base, "--since", "2020-01-01")[1])["results"]
    assert [hit["doc_id"] for hit in found] == ["new"] and found[0]["published"] == "2024-05-01"
    ordered = json.loads(invoke(*base, "--sort", "date")[1])["results"]
    assert [hit["doc_id"] for hit in ordered][:2] == ["new", "old"]
    code, out, err = invoke(*base, "--until", "May 2001")
    assert code == 1 and "ISO 8601" in err and "Traceback" not in err
    code, out, err = invoke("search", "herring catch", "--index", str(fake_index), "--mode", "lexical")
    assert "2024-05-01" in out


def test_remove_loads_the_index_own_model_and_backend(
    fake_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from indexer.store import Manifest, resolve_build
    from seedsearch import cli

    before = Manifest.read(resolve_build(fake_index))
    asked: list[tuple[str | None, str]] = []

    def embedder(settings: EncoderSettings) -> FakeEmbedder:
        asked.append((settings.model, settings.backend))
        return FakeEmbedder(dimension=32)

    monkeypatch.setattr(cli, "_embedder", embedder)
    monkeypatch.setenv("SEEDSEARCH_BACKEND", "onnx")  # the index's own backend wins: nothing is encoded
    code, out, err = invoke("remove", "cocoa.txt", "--index", str(fake_index))
    assert code == 0, err
    assert asked == [(before.model_id, before.backend)]
    after = Manifest.read(resolve_build(fake_index))
    assert (after.model_id, after.backend, after.documents) == (before.model_id, before.backend, before.documents - 1)
