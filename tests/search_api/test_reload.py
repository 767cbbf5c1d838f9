"""Rebuilding an index while it is served: no failed request, the new build served within seconds, killed
builds that leave the index as it was, and one build at a time."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from indexer.build import build_index
from indexer.embedding import Embedder, FakeEmbedder
from indexer.local_store import LocalStore as LoadedIndex
from indexer.settings import EncoderSettings
from indexer.store import BUILDS, CURRENT, is_building, resolve_build
from search_api.app import create_app
from search_api.engine import SearchEngine
from search_api.settings import ServerSettings
from seedsearch import cli
from tests.paths import REPO

SWITCH_DEADLINE_S = 5.0
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

#: Builds `argv[1]` (sources) into `argv[2]` with the fake embedder; `argv[3]` names a step of `publish` at
#: which the process SIGKILLs itself ("none" for a plain build), to land a kill exactly there.
BUILD_SCRIPT = """
import os, signal, sys
from pathlib import Path
from indexer import index_dir as store
from indexer.build import build_index
from indexer.embedding import FakeEmbedder

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

step = sys.argv[3]
if step == "before-rename":
    store._fsync_tree = die
elif step == "before-link-swap":
    os.symlink = die
elif step == "after-link-swap":
    store.prune_builds = die
build_index([Path(sys.argv[1])], Path(sys.argv[2]), FakeEmbedder(dimension=32), full=True)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_build(sources: Path, index_dir: Path, kill_at: str = "none") -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", BUILD_SCRIPT, str(sources), str(index_dir), kill_at],
        cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 synthetic stories in one JSONL file: a fake-embedder build of it takes a few seconds."""
    rng = random.Random(7)
    words = ("cocoa wheat harvest exports prices rose fell traders said bank minister government shares "
             "percent tonnes market sugar coffee rubber tin oil crude barrels dollar yen").split()
    path = tmp_path_factory.mktemp("corpus") / "stories.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for number in range(600):
            paragraphs = [
                " ".join(" ".join(rng.choice(words) for _ in range(12)).capitalize() + "." for _ in range(4))
                for _ in range(3)
            ]
            out.write(json.dumps({"_id": f"story-{number}", "title": f"Story {number}",
                                  "text": "\n\n".join(paragraphs)}) + "\n")
    return path


# --- a real server under load while the index is rebuilt --------------------------------------------


class Load:
    """Client threads that search as fast as they can and count every outcome."""

    QUESTIONS = ("What did Poland say?", "Who commands Nato forces in Europe?", "Greenland belongs to its people",
                 "Denmark sovereignty statement", "What did the French president say?")

    def __init__(self, base_url: str, clients: int, headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url
        self.headers = headers or {}
        self.outcomes: Counter[str] = Counter()
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(clients)]

    def _run(self, number: int) -> None:
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30) as client:
            turn = number
            while not self._stop.is_set():
                turn += 1
                question = self.QUESTIONS[turn % len(self.QUESTIONS)]
                try:
                    if turn % 2:
                        response = client.get("/search", params={"q": question, "k": 5})
                    else:
                        response = client.post("/search", json={"query": question, "k": 5, "mode": "hybrid"})
                    outcome = str(response.status_code)
                    if response.status_code != 200:
                        self._fail(f"{response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as err:
                    outcome = type(err).__name__
                    self._fail(f"{type(err).__name__}: {err}")
                with self._lock:
                    self.outcomes[outcome] += 1

    def _fail(self, message: str) -> None:
        with self._lock:
            self.failures.append(message)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def wait_healthy(base_url: str, server: subprocess.Popen[str], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}: {server.stderr.read() if server.stderr else ''}")
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail("the server did not answer /health in time")


@pytest.fixture
def served_copy(real_seed_index: Path, tmp_path: Path) -> Path:
    index_dir = tmp_path / "served"
    shutil.copytree(real_seed_index, index_dir, symlinks=True)
    return index_dir


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]

    def stop(self) -> str:
        """Stop the server (SIGTERM, as a supervisor would) and return what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.stderr.read() if self.process.stderr else ""


@contextmanager
def serving(index: Path, env: dict[str, str], *options: str) -> Iterator[Server]:
    """`seedsearch serve --index INDEX OPTIONS` as a subprocess on a free port, healthy, stopped afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "seedsearch.cli", "serve", "--index", str(index), "--port", str(port), *options],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        wait_healthy(server.url, process)
        yield server
    finally:
        server.stop()


@pytest.fixture
def real_server(served_copy: Path) -> Iterator[Server]:
    """`seedsearch serve` as a subprocess with the real model, looking for new builds every 0.5 s."""
    with serving(served_copy, {**ENV, "SEEDSEARCH_RELOAD_INTERVAL_S": "0.5"}) as server:
        yield server


def test_rebuild_under_load_fails_no_request_and_serves_the_new_document(
    real_server: Server, served_copy: Path, seed_copy: Path, real_embedder: Embedder
) -> None:
    new_doc = "zanzibar.txt"
    (seed_copy / new_doc).write_text(
        "Zanzibar clove exporters\n\nClove exporters in Zanzibar shipped a record harvest to India, "
        "the island's trade ministry said on Tuesday.\n",
        encoding="utf-8",
    )
    with Load(real_server.url, clients=4) as load, httpx.Client(base_url=real_server.url, timeout=30) as probe:
        while sum(load.outcomes.values()) < 20 and not load.failures:
            time.sleep(0.05)
        report = build_index([seed_copy], served_copy, real_embedder)
        finished = time.monotonic()
        assert report.embedded_documents == 1 and report.build_dir is not None
        found = False
        while not found and time.monotonic() - finished < SWITCH_DEADLINE_S:
            hits = probe.get("/search", params={"q": "Zanzibar clove exporters", "k": 3}).json()["results"]
            found = any(hit["doc_id"] == new_doc for hit in hits)
            if not found:
                time.sleep(0.1)
        served_at = sum(load.outcomes.values())
        while sum(load.outcomes.values()) < served_at + 20 and not load.failures:
            time.sleep(0.05)
    assert found, f"the new document was not served within {SWITCH_DEADLINE_S} s of the build finishing"
    assert load.failures == [], load.failures[:5]
    assert set(load.outcomes) == {"200"} and sum(load.outcomes.values()) >= 40, load.outcomes
    assert httpx.get(f"{real_server.url}/stats", timeout=10).json()["documents"] == 2
    logged = real_server.stop()
    assert "serving build" in logged, logged  # the switch was logged, at INFO...
    for private in ("Zanzibar", "Clove", "Greenland", "Poland"):  # ...but no document text and no question
        assert private not in logged, logged


# --- builds killed at any moment ----------------------------------------------------------------------


@pytest.fixture
def watched(fake_index: Path) -> Iterator[TestClient]:
    """A server over `fake_index` that looks for new builds every 0.1 s."""
    server = ServerSettings(api_key="k", reload_interval_s=0.1)
    app = create_app(server, encoder=EncoderSettings(index=fake_index), embedder=FakeEmbedder(dimension=32))
    with TestClient(app, headers={"X-API-Key": "k"}) as c:
        yield c


def assert_as_it_was(index_dir: Path, before: Path, server: TestClient) -> None:
    assert resolve_build(index_dir) == before
    assert not is_building(index_dir)
    engine = SearchEngine(LoadedIndex(index_dir), FakeEmbedder(dimension=32))
    assert engine.search("cocoa arrivals bags", k=3).hits
    assert server.post("/admin/reload").json()["reloaded"] is False
    assert server.app.state.holder.build_id == os.readlink(index_dir / CURRENT)  # type: ignore[attr-defined]
    response = server.get("/search", params={"q": "cocoa arrivals bags", "k": 3})
    assert response.status_code == 200 and response.json()["results"][0]["doc_id"] == "cocoa.txt"


@pytest.fixture(scope="module")
def build_seconds(big_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long a whole build of `big_corpus` takes here, to spread the kills over it on any machine."""
    started = time.monotonic()
    build = start_build(big_corpus, tmp_path_factory.mktemp("timing") / "index")
    assert build.wait(timeout=300) == 0, build.stderr.read() if build.stderr else b""
    return time.monotonic() - started


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.6, 0.9])
def test_a_build_killed_at_any_moment_leaves_the_index_as_it_was(
    fake_index: Path, big_corpus: Path, watched: TestClient, build_seconds: float, fraction: float
) -> None:
    before = resolve_build(fake_index)
    build = start_build(big_corpus, fake_index)
    time.sleep(build_seconds * fraction)
    build.send_signal(signal.SIGKILL)
    code = build.wait()
    if code == 0 or resolve_build(fake_index) != before:
        # finished (or died after switching the link): then the new build must be complete and served
        assert LoadedIndex(fake_index).manifest.documents == 600
        assert watched.post("/admin/reload").status_code == 200
        assert watched.get("/search", params={"q": "cocoa wheat harvest"}).json()["results"]
        return
    assert code == -signal.SIGKILL
    assert_as_it_was(fake_index, before, watched)


@pytest.mark.parametrize("step", ["before-rename", "before-link-swap"])
def test_a_build_killed_while_publishing_leaves_the_index_as_it_was(
    fake_index: Path, seed_copy: Path, watched: TestClient, step: str
) -> None:
    before = resolve_build(fake_index)
    (seed_copy / "rice.txt").write_text("Rice harvests in Thailand were late this year.\n", encoding="utf-8")
    build = start_build(seed_copy, fake_index, kill_at=step)
    assert build.wait(timeout=120) == -signal.SIGKILL
    assert_as_it_was(fake_index, before, watched)


def test_a_build_killed_after_the_link_swap_is_complete_and_served(
    fake_index: Path, seed_copy: Path, watched: TestClient
) -> None:
    (seed_copy / "rice.txt").write_text("Rice harvests in Thailand were late this year.\n", encoding="utf-8")
    build = start_build(seed_copy, fake_index, kill_at="after-link-swap")
    assert build.wait(timeout=120) == -signal.SIGKILL
    assert LoadedIndex(fake_index).document("rice.txt") is not None
    watched.post("/admin/reload")
    hits = watched.get("/search", params={"q": "rice harvests Thailand", "k": 1}).json()["results"]
    assert hits[0]["doc_id"] == "rice.txt"


def test_the_next_build_after_kills_succeeds_and_removes_the_leftovers(
    fake_index: Path, seed_copy: Path
) -> None:
    (seed_copy / "rice.txt").write_text("Rice harvests in Thailand were late this year.\n", encoding="utf-8")
    assert start_build(seed_copy, fake_index, kill_at="before-link-swap").wait(timeout=120) == -signal.SIGKILL
    assert start_build(seed_copy, fake_index, kill_at="before-rename").wait(timeout=120) == -signal.SIGKILL
    leftovers = [p.name for p in (fake_index / BUILDS).iterdir() if p.name.startswith(".tmp-")]
    assert leftovers, "the kill should have left a temporary build folder behind"
    report = build_index([seed_copy], fake_index, FakeEmbedder(dimension=32))
    assert report.documents == 4 and not report.up_to_date
    assert not [p.name for p in (fake_index / BUILDS).iterdir() if p.name.startswith(".tmp-")]
    assert not list(fake_index.glob(".current.*"))
    assert LoadedIndex(fake_index).document("rice.txt") is not None


def test_builds_never_prune_the_build_a_server_still_serves(fake_index: Path, watched: TestClient) -> None:
    """A server kept on an old build (the newer ones are broken) keeps its files through later publishes."""
    from tests.test_bad_indexes import publish_broken

    served = resolve_build(fake_index)
    for _ in range(3):
        publish_broken(fake_index, "faiss garbage")
        assert watched.post("/admin/reload").json()["reloaded"] is False
    assert served.is_dir() and (served / "passages.sqlite").exists()
    assert len([p for p in (fake_index / BUILDS).iterdir() if not p.name.startswith(".")]) == 3
    assert watched.get("/documents/cocoa.txt").status_code == 200


# --- one build at a time -----------------------------------------------------------------------------


runner = CliRunner()


@pytest.fixture
def fake_cli_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_embedder", lambda settings: FakeEmbedder(dimension=32))


def wait_until_building(index_dir: Path, build: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not is_building(index_dir):
        assert build.poll() is None, build.stderr.read() if build.stderr else b""
        assert time.monotonic() < deadline, "the first build never took the lock"
        time.sleep(0.02)


@pytest.mark.usefixtures("fake_cli_model")
def test_a_second_build_exits_with_a_clear_message_or_waits(
    fake_index: Path, big_corpus: Path, seed_copy: Path
) -> None:
    first = start_build(big_corpus, fake_index)
    app = create_app(encoder=EncoderSettings(index=fake_index), embedder=FakeEmbedder(dimension=32))
    try:
        wait_until_building(fake_index, first)
        with TestClient(app) as server:
            assert server.get("/health").json()["building"] is True
        refused = runner.invoke(cli.app, ["build", "--source", str(seed_copy), "--index", str(fake_index), "-q"])
        assert refused.exit_code == 1, refused.output
        errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "another build" in errors[0] and "--wait" in errors[0], refused.stderr
        assert "Traceback" not in refused.output
        assert first.poll() is None, "the refused build must not disturb the running one"
        waited = runner.invoke(
            cli.app, ["build", "--source", str(seed_copy), "--index", str(fake_index), "-q", "--wait", "120"]
        )
        assert waited.exit_code == 0, waited.output
        assert first.wait(timeout=60) == 0
        # it found the first build published and replaced its 600 stories: it ran after it, not beside it
        assert "600 removed" in waited.stdout, waited.stdout
        with TestClient(app) as server:
            assert server.get("/health").json()["building"] is False
    finally:
        if first.poll() is None:
            first.kill()
        first.wait()
    loaded = LoadedIndex(fake_index)
    assert loaded.manifest.documents == 3
    assert loaded.document("story-1") is None and loaded.document("cocoa.txt") is not None
