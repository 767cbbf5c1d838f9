"""One question is encoded on a worker thread while the lexical query runs, with the same answers as a batch."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer.local_store import LocalStore
from indexer.store import IdsOrLater, LexicalQuery, LexicalScores, PassageFilter
from search_api.engine import SearchEngine

QUESTIONS = ("cocoa arrivals in Bahia", "Who met Zelensky?", "What did Tusk say about Ukraine?")


class GatedEmbedder:
    """Encodes only once the store has started a lexical query (or gives up after `wait_s`)."""

    def __init__(self, inner: object, started: threading.Event, wait_s: float = 5.0) -> None:
        self.inner = inner
        self.started = started
        self.wait_s = wait_s
        self.overlapped: list[bool] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.overlapped.append(self.started.wait(self.wait_s))
        return self.inner.encode_queries(texts)  # type: ignore[attr-defined, no-any-return]


class SignallingStore:
    """A LocalStore that says when a lexical query starts."""

    def __init__(self, inner: LocalStore, started: threading.Event) -> None:
        self.inner = inner
        self.started = started
        self.manifest = inner.manifest

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def lexical(self, query: LexicalQuery, limit: int, where: PassageFilter, also: IdsOrLater = ()) -> LexicalScores:
        self.started.set()
        return self.inner.lexical(query, limit, where, also)


def _answers(engine: SearchEngine, question: str, mode: str, alone: bool) -> list[tuple[int, float]]:
    results = engine.search_batch([question] if alone else [question, "unrelated filler"], k=5, mode=mode)  # type: ignore[arg-type]
    return [(hit.passage.id, hit.score) for hit in results[0].hits]


def test_one_question_gets_the_same_answers_as_in_a_batch(fake_index: Path, fake_embedder) -> None:
    engine = SearchEngine(LocalStore(fake_index), fake_embedder)
    for mode in ("hybrid", "dense", "lexical"):
        for question in QUESTIONS:
            alone = _answers(engine, question, mode, alone=True)
            assert alone or mode == "lexical", (mode, question)
            assert alone == _answers(engine, question, mode, alone=False), (mode, question)


def test_a_hybrid_question_is_encoded_while_its_lexical_query_runs(fake_index: Path, fake_embedder) -> None:
    started = threading.Event()
    embedder = GatedEmbedder(fake_embedder, started)
    engine = SearchEngine(SignallingStore(LocalStore(fake_index), started), embedder)  # type: ignore[arg-type]
    result = engine.search("cocoa arrivals in Bahia", k=3)
    assert embedder.overlapped == [True]  # encoding waited for the lexical query, so they ran at once
    assert result.hits and result.took_ms > 0


def test_an_encoding_failure_reaches_the_caller(fake_index: Path, fake_embedder) -> None:
    class Broken(GatedEmbedder):
        def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
            raise RuntimeError("encoder down")

    engine = SearchEngine(LocalStore(fake_index), Broken(fake_embedder, threading.Event()))  # type: ignore[arg-type]
    try:
        engine.search("cocoa", k=3)
    except RuntimeError as err:
        assert "encoder down" in str(err)
    else:
        raise AssertionError("the encoder's error was swallowed")
