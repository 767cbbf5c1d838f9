"""Broken index directories: the CLI says what is wrong in one line, `serve` refuses to start on them, and a
running server that sees one published keeps serving the index it has."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from indexer.build import build_index
from indexer.embedding import FakeEmbedder
from indexer.index_dir import REQUIRED_FILES
from indexer.local_store import LocalStore as LoadedIndex
from indexer.settings import EncoderSettings
from indexer.store import CURRENT, FAISS_FILE, IndexStoreError, new_build_dir, publish, resolve_build
from search_api.app import create_app
from search_api.settings import ServerSettings
from seedsearch import cli

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _edit_manifest(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def corrupt(build: Path) -> None:
        path = build / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        change(manifest)
        path.write_text(json.dumps(manifest), encoding="utf-8")

    return corrupt


def _truncate(name: str, keep: float) -> Callable[[Path], None]:
    def corrupt(build: Path) -> None:
        data = (build / name).read_bytes()
        (build / name).write_bytes(data[: int(len(data) * keep)])

    return corrupt


def _head(name: str, size: int) -> Callable[[Path], None]:
    return lambda build: (build / name).write_bytes((build / name).read_bytes()[:size])


def _replace(name: str, content: bytes) -> Callable[[Path], None]:
    return lambda build: (build / name).write_bytes(content)


def _remove(name: str) -> Callable[[Path], None]:
    return lambda build: (build / name).unlink()


def _other_faiss(build: Path) -> None:
    """A valid FAISS file, but of another index (other count and dimension)."""
    import faiss
    import numpy as np

    vectors = np.eye(4, 16, dtype=np.float32)
    index = faiss.index_factory(16, "IDMap,Flat", faiss.METRIC_INNER_PRODUCT)
    index.add_with_ids(vectors, np.arange(4, dtype=np.int64))
    faiss.write_index(index, str(build / FAISS_FILE))


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "faiss empty": _replace("vectors.faiss", b""),
    "faiss truncated to 40 bytes": _head("vectors.faiss", 40),
    "faiss cut in half": _truncate("vectors.faiss", 0.5),
    "faiss garbage": _replace("vectors.faiss", b"\x07" * 4096),
    "faiss of another index": _other_faiss,
    "faiss missing": _remove("vectors.faiss"),
    "sqlite garbage": _replace("passages.sqlite", b"this is not sqlite" * 500),
    "sqlite truncated": _truncate("passages.sqlite", 0.1),
    "sqlite missing": _remove("passages.sqlite"),
    "vectors truncated": _truncate("vectors.npy", 0.5),
    "ids missing": _remove("ids.npy"),
    "manifest missing": _remove("manifest.json"),
    "manifest not json": _replace("manifest.json", b"{not json"),
    "manifest a list": _replace("manifest.json", b"[]"),
    "manifest passages edited": _edit_manifest(lambda m: m.update(passages=m["passages"] + 1)),
    "manifest dimension edited": _edit_manifest(lambda m: m.update(dimension=16)),
    "manifest built_at a number": _edit_manifest(lambda m: m.update(built_at=5)),
    "manifest vector_index dropped": _edit_manifest(lambda m: m.pop("vector_index")),
    "manifest vector_index null": _edit_manifest(lambda m: m.update(vector_index=None)),
    "manifest vector_index kind": _edit_manifest(lambda m: m["vector_index"].update(kind="bogus")),
    "manifest search_params": _edit_manifest(lambda m: m["vector_index"].update(search_params={"nprobe": "x"})),
    "manifest format version": _edit_manifest(lambda m: m.update(format_version=99)),
    "lexical missing": lambda build: shutil.rmtree(build / "lexical"),
    "lexical rows missing": _remove("lexical/rows.npy"),
    "lexical rows cut in half": _truncate("lexical/rows.npy", 0.5),
    "lexical vocabulary garbage": _replace("lexical/body.vocab.json", b"\x07" * 64),
    "lexical document rows empty": _replace("lexical/doc_rows.npy", b""),
    "lexical postings cut in half": _truncate("lexical/body.indices.npy", 0.5),
    "current link dangling": lambda build: shutil.rmtree(build),
}


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_embedder", lambda settings: FakeEmbedder(dimension=32))


@pytest.fixture
def broken(request: pytest.FixtureRequest, fake_index: Path) -> Path:
    CORRUPTIONS[request.param](resolve_build(fake_index))
    return fake_index


def one_error_line(args: list[str]) -> str:
    """Run the CLI and return its single error line, asserting exit 1 and no traceback."""
    result = runner.invoke(cli.app, args)
    output = result.stdout + result.stderr
    assert result.exit_code == 1, output
    assert "Traceback" not in output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


ALL = sorted(CORRUPTIONS)


@pytest.mark.parametrize("broken", ALL, indirect=True)
def test_search_on_a_broken_index_is_one_clear_line(broken: Path) -> None:
    line = one_error_line(["search", "cocoa", "--index", str(broken)])
    assert "rebuild" in line or "seedsearch build" in line or "expected one of" in line, line


@pytest.mark.parametrize("broken", ALL, indirect=True)
def test_info_checks_the_files_it_describes(broken: Path) -> None:
    line = one_error_line(["info", "--index", str(broken)])
    assert str(broken) in line or "expected one of" in line, line


@pytest.mark.parametrize("broken", ALL, indirect=True)
def test_serve_refuses_to_start_on_a_broken_index(broken: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append(args))
    one_error_line(["serve", "--index", str(broken), "--port", "9"])
    assert not started


@pytest.mark.parametrize("broken", ALL, indirect=True)
def test_a_build_over_a_broken_index_repairs_it(broken: Path, seed_copy: Path) -> None:
    (seed_copy / "rice.txt").write_text("Rice harvests in Thailand were late this year.\n", encoding="utf-8")
    result = runner.invoke(cli.app, ["build", "--source", str(seed_copy), "--index", str(broken), "-q"])
    assert result.exit_code == 0, result.output
    loaded = LoadedIndex(broken)
    assert loaded.manifest.documents == 4 and loaded.document("rice.txt") is not None


def test_another_models_index_is_refused_naming_both_models(fake_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(cli, "_embedder", lambda settings: FakeEmbedder(dimension=16, model_id="other-model"))
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: pytest.fail("serve started on another model's index"))
    for args in (["search", "cocoa", "--index", str(fake_index)], ["serve", "--index", str(fake_index)]):
        line = one_error_line(args)
        assert "'fake'" in line and "'other-model'" in line, line


def test_real_serve_refuses_a_corrupt_index_in_one_line(fake_index: Path, tmp_path: Path) -> None:
    """The real command with the real model: exit 1, one line on stderr, no traceback, the port never opens."""
    (resolve_build(fake_index) / "passages.sqlite").write_bytes(b"garbage" * 1000)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "SEEDSEARCH_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "seedsearch.cli", "serve", "--index", str(fake_index), "--port", "9"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "passages.sqlite" in lines[0], done.stderr


# --- a running server that sees a broken build published ---------------------------------------------


@pytest.fixture
def server(fake_index: Path) -> Iterator[TestClient]:
    app = create_app(
        ServerSettings(api_key="k"), encoder=EncoderSettings(index=fake_index), embedder=FakeEmbedder(dimension=32)
    )
    with TestClient(app, headers={"X-API-Key": "k"}) as client:
        yield client


def publish_broken(index_dir: Path, corruption: str) -> str:
    """Publish a copy of the current build damaged by `corruption`; returns the new build's name."""
    build = new_build_dir(index_dir)
    shutil.copytree(resolve_build(index_dir), build, dirs_exist_ok=True)
    if corruption == "current link dangling":
        final = publish(index_dir, build)
        shutil.rmtree(final)
        return final.name
    damage = CORRUPTIONS[corruption]
    damage(build)
    if all((build / name).exists() for name in REQUIRED_FILES):
        return publish(index_dir, build).name
    # publish() refuses incomplete builds; swap the link by hand to prove the server refuses them too
    final = build.with_name(build.name.removeprefix(".tmp-"))
    os.replace(build, final)
    link = index_dir / ".current.test"
    os.symlink(Path("builds") / final.name, link)
    os.replace(link, index_dir / CURRENT)
    return final.name


@pytest.mark.parametrize("corruption", ALL)
def test_reload_keeps_the_previous_index_when_the_new_build_is_broken(
    server: TestClient, fake_index: Path, corruption: str, caplog: pytest.LogCaptureFixture
) -> None:
    holder = server.app.state.holder  # type: ignore[attr-defined]
    before = server.get("/stats").json()
    served = holder.build_id
    name = publish_broken(fake_index, corruption)
    with caplog.at_level(logging.INFO, logger="seedsearch"):
        reloaded = server.post("/admin/reload")
    assert reloaded.status_code == 200
    assert reloaded.json()["reloaded"] is False
    assert name in reloaded.json()["detail"] or "rebuild" in reloaded.json()["detail"]
    assert holder.build_id == served
    assert server.get("/health").status_code == 200
    assert server.get("/stats").json() == before
    search = server.get("/search", params={"q": "cocoa arrivals"})
    assert search.status_code == 200 and search.json()["results"]
    assert not [r for r in caplog.records if r.exc_info], "a broken build must be logged as one line"
    assert any("kept the previous index" in r.getMessage() for r in caplog.records)


def test_a_good_build_after_a_broken_one_is_served(
    server: TestClient, fake_index: Path, seed_copy: Path
) -> None:
    holder = server.app.state.holder  # type: ignore[attr-defined]
    publish_broken(fake_index, "faiss garbage")
    assert server.post("/admin/reload").json()["reloaded"] is False
    (seed_copy / "rice.txt").write_text("Rice harvests in Thailand were late this year.\n", encoding="utf-8")
    build_index([seed_copy], fake_index, FakeEmbedder(dimension=32), full=True)
    assert server.post("/admin/reload").json()["reloaded"] is True
    assert holder.last_error is None
    hits = server.get("/search", params={"q": "rice harvests Thailand", "k": 1}).json()["results"]
    assert hits[0]["doc_id"] == "rice.txt"


def test_loaded_index_never_raises_anything_but_store_errors(fake_index: Path) -> None:
    """The library-level promise the CLI and the server rely on, for every damage above."""
    for name, damage in CORRUPTIONS.items():
        copy = fake_index.parent / f"copy-{len(name)}-{abs(hash(name)) % 10_000}"
        shutil.copytree(fake_index, copy, symlinks=True)
        damage(resolve_build(copy))
        with pytest.raises(IndexStoreError):
            LoadedIndex(copy)
