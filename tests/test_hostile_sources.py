"""Hostile sources through the whole pipeline: the build goes on and exits 0, reports every refusal on one
escaped line, and serves only what lies inside the sources, every document reachable by its id."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from indexer.embedding import FakeEmbedder
from indexer.settings import EncoderSettings
from search_api.app import create_app
from seedsearch import cli

runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_embedder", lambda settings: FakeEmbedder(dimension=32))


@pytest.fixture
def hostile_source(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.txt").write_text("The secret password is swordfish.", encoding="utf-8")
    (outside / "folder" / "private.txt").write_text("Private notes about the merger.", encoding="utf-8")
    source = tmp_path / "src"
    source.mkdir()
    (source / "good.txt").write_text("Cocoa arrivals in Bahia rose this week.", encoding="utf-8")
    (source / "new\nline.txt").write_text("A file whose name holds a newline.", encoding="utf-8")
    (source / "evil\nskipped FAKE-ENTRY: fine.bin").write_bytes(b"binary")
    os.symlink(outside / "secret.txt", source / "leak.txt")
    os.symlink(outside / "folder", source / "linked")
    deep = '{"_id": "deep", "text": "Too deep.", "meta": ' + "[" * 5000 + "]" * 5000 + "}"
    good_line = json.dumps({"_id": "rec", "text": "A record after the deep one."})
    (source / "records.jsonl").write_text(deep + "\n" + good_line + "\n", encoding="utf-8")
    return source


def test_hostile_build_exits_0_and_reports_each_refusal_on_one_line(tmp_path: Path, hostile_source: Path) -> None:
    index = tmp_path / "index"
    result = runner.invoke(cli.app, ["build", "--source", str(hostile_source), "--index", str(index), "-q"])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    skipped = [line for line in lines if line.startswith("skipped ")]
    assert len(skipped) == 4, lines
    assert not any(line.startswith("FAKE-ENTRY") or line.startswith("line.txt") for line in lines)
    assert any("evil\\nskipped FAKE-ENTRY" in line for line in skipped)
    assert sum("outside the source folders" in line for line in skipped) == 2
    assert any("records.jsonl:1" in line and "levels deep" in line for line in skipped)
    assert "4 skipped" in result.stdout

    with TestClient(create_app(encoder=EncoderSettings(index=index), embedder=FakeEmbedder(dimension=32))) as client:
        newline = client.get("/documents/" + quote("new\nline.txt", safe=""))
        assert newline.status_code == 200, newline.text
        assert newline.json()["text"] == "A file whose name holds a newline."
        assert client.get("/documents/rec").status_code == 200
        for leaked in ("leak.txt", "linked/private.txt"):
            assert client.get(f"/documents/{leaked}").status_code == 404
        found = client.get("/search", params={"q": "secret password swordfish merger", "k": 10}).json()
        assert all("swordfish" not in hit["text"] and "merger" not in hit["text"] for hit in found["results"])


def test_follow_links_flag_indexes_links_leaving_the_source(tmp_path: Path, hostile_source: Path) -> None:
    index = tmp_path / "index"
    args = ["build", "--source", str(hostile_source), "--index", str(index), "-q", "--follow-links"]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 0, result.stderr
    with TestClient(create_app(encoder=EncoderSettings(index=index), embedder=FakeEmbedder(dimension=32))) as client:
        assert client.get("/documents/leak.txt").status_code == 200
        assert client.get("/documents/linked/private.txt").status_code == 200
