"""Sentence vectors: which sentences get one, how a build writes and reuses them, how a passage's best is found."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from indexer.build import build_index
from indexer.embedding import FakeEmbedder
from indexer.index_dir import MANIFEST
from indexer.local_store import LocalStore
from indexer.reader import PassageStore
from indexer.sentence_vectors import SENTENCE_VECTORS, SentenceRows, passage_sentences
from indexer.store import DATABASE, resolve_build
from search_api.engine import SearchEngine, SearchOptions


def test_a_passage_of_one_sentence_has_no_sentence_vectors() -> None:
    assert passage_sentences("Arrivals of cocoa beans rose to 155,221 bags, exporters said.") == []
    assert passage_sentences("Cocoa rose. Mr. Smith said so.") == []  # "Cocoa rose." is too short to stand alone
    assert passage_sentences("Cocoa arrivals rose sharply. Mr. Smith said prices would fall.") == [
        "Cocoa arrivals rose sharply.",
        "Mr. Smith said prices would fall.",
    ]


def test_the_best_sentence_is_the_brute_force_maximum() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(7, 8)).astype(np.float16)
    owners = np.array([3, 3, 5, 5, 5, 9, 9], dtype=np.int64)
    scorer = SentenceRows(vectors, owners, np.zeros(7, dtype="S16"))
    query = rng.normal(size=8).astype(np.float32)
    sims = vectors.astype(np.float32) @ query
    assert scorer.best(query, [9, 4, 3]) == {3: float(sims[:2].max()), 9: float(sims[5:].max())}
    assert scorer.best(query, [5]) == {5: float(sims[2:5].max())}
    assert scorer.best(query, [1, 2]) == {} and scorer.best(query, []) == {}


def _stored(index_dir: Path) -> tuple[SentenceRows, dict[int, str]]:
    build = resolve_build(index_dir)
    rows = SentenceRows.load(build, 32)
    assert rows is not None
    store = PassageStore(build / DATABASE)
    texts = {p.id: p.text for p in store.passages([int(i) for i in np.unique(rows.owners)]).values()}
    store.close()
    return rows, texts


def test_a_build_writes_a_vector_for_each_sentence_of_passages_of_several(
    fake_index: Path, fake_embedder: FakeEmbedder
) -> None:
    rows, texts = _stored(fake_index)
    assert len(texts) > 0
    for passage_id, text in texts.items():
        sentences = passage_sentences(text)
        mine = np.flatnonzero(rows.owners == passage_id)
        assert len(mine) == len(sentences) >= 2
    store = LocalStore(fake_index)
    passages = store.passages(store.ids.tolist())
    with_several = {pid for pid, p in passages.items() if passage_sentences(p.text)}
    assert with_several == set(texts)


def test_an_incremental_build_embeds_only_the_changed_documents_sentences(
    fake_index: Path, seed_copy: Path, fake_embedder: FakeEmbedder
) -> None:
    before, _ = _stored(fake_index)
    (seed_copy / "cocoa.txt").write_text(
        "Cocoa harvest\n\nShowers continued throughout the week in the Bahia cocoa zone. Farmers said the rain "
        "came late.\n\nArrivals of cocoa beans rose to 155,221 bags, exporters said.\n",
        encoding="utf-8",
    )
    report = build_index([seed_copy], fake_index, fake_embedder)
    after, texts = _stored(fake_index)
    assert report.embedded_sentences == 2  # the paragraph that changed; the seed article's kept their vectors
    assert len(after.owners) == len(before.owners) + 2
    unchanged = [key for key in after.keys if key in set(before.keys)]
    assert len(unchanged) == len(before.owners)
    assert any("rain came late" in text for text in texts.values())


def test_a_dense_score_mixes_the_passage_with_its_best_sentence(fake_index: Path, fake_embedder: FakeEmbedder) -> None:
    store = LocalStore(fake_index)
    engine = SearchEngine(store, fake_embedder, SearchOptions(statement_weight=0, answer_chars=0, sentence_weight=2))
    rows, _ = _stored(fake_index)
    question = "Who commands Nato forces in Europe?"
    query = fake_embedder.encode_queries([question])[0]
    hits = engine.search(question, k=10, mode="dense").hits
    assert any(int(h.passage.id) in set(rows.owners.tolist()) for h in hits)
    for hit in hits:
        cosine = float(np.asarray(store.vectors[store.row_of[hit.passage.id]]) @ query)
        mine = rows.owners == hit.passage.id
        best = float((rows.vectors[mine].astype(np.float32) @ query).max()) if mine.any() else cosine
        expected = (cosine + 2 * best) / 3
        assert abs(hit.score - expected) < 1e-5


def test_a_build_of_the_previous_format_is_still_served_without_sentence_vectors(
    fake_index: Path, fake_embedder: FakeEmbedder
) -> None:
    build = resolve_build(fake_index)
    manifest = json.loads((build / MANIFEST).read_text())
    manifest["format_version"] = 3
    (build / MANIFEST).write_text(json.dumps(manifest))
    (build / SENTENCE_VECTORS).unlink()
    engine = SearchEngine(LocalStore(fake_index), fake_embedder, SearchOptions(statement_weight=0, answer_chars=0))
    assert engine.index.sentence_scores(fake_embedder.encode_queries(["cocoa"])[0], [1, 2, 3]) == {}
    assert engine.search("cocoa arrivals", k=3).hits
