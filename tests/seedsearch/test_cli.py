"""The command line: one clear line and exit 1 on every error, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from indexer.embedding import FakeEmbedder
from seedsearch import cli

runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_embedder", lambda settings: FakeEmbedder(dimension=32))


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_build_then_search_prints_readable_and_json(tmp_path: Path, seed_copy: Path) -> None:
    index = tmp_path / "index"
    code, out, err = invoke("build", "--source", str(seed_copy), "--index", str(index), "--quiet")
    assert code == 0, err
    assert "1 documents" in out and "passages/s" in out
    code, out, err = invoke("search", "Greenland belongs to its people", "--index", str(index), "-k", "2")
    assert code == 0, err
    assert "1. " in out and "Greenland" in out
    code, out, err = invoke("search", "Greenland", "--index", str(index), "-k", "2", "--json")
    assert code == 0, err
    results = json.loads(out)["results"]
    assert len(results) == 2 and {"rank", "score", "doc_id", "text", "start", "end", "highlights"} <= set(results[0])


def test_second_build_is_up_to_date(tmp_path: Path, seed_copy: Path) -> None:
    index = tmp_path / "index"
    assert invoke("build", "--source", str(seed_copy), "--index", str(index), "-q")[0] == 0
    code, out, _ = invoke("build", "--source", str(seed_copy), "--index", str(index), "-q")
    assert code == 0 and "up to date" in out


def test_info_prints_the_manifest(fake_index: Path) -> None:
    code, out, _ = invoke("info", "--index", str(fake_index))
    assert code == 0 and '"model_id": "fake"' in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("search", "anything", "--index", "{tmp}/nowhere"), "seedsearch build"),
        (("build", "--source", "{tmp}/missing-folder", "--index", "{tmp}/i"), "missing-folder"),
        (("build", "--source", "{tmp}/empty", "--index", "{tmp}/i"), "no documents"),
        (("search", "   ", "--index", "{tmp}/i"), "empty"),
        (("info", "--index", "{tmp}/nowhere"), "no index"),
        (("eval", "--index", "{tmp}/nowhere"), "exactly one"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = invoke(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert code == 1
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and needle.lower() in lines[0].lower(), err


def test_corrupt_faiss_file_is_a_clear_error(fake_index: Path) -> None:
    from indexer.store import resolve_build

    faiss_file = resolve_build(fake_index) / "vectors.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:40])
    code, out, err = invoke("search", "cocoa", "--index", str(fake_index))
    assert code == 1 and "Traceback" not in out + err
    assert "rebuild" in err


def test_corrupt_database_is_a_clear_error(fake_index: Path) -> None:
    from indexer.store import resolve_build

    database = resolve_build(fake_index) / "passages.sqlite"
    database.write_bytes(b"this is not sqlite" * 100)
    code, out, err = invoke("search", "cocoa", "--index", str(fake_index))
    assert code == 1 and "Traceback" not in out + err
    assert "rebuild" in err
