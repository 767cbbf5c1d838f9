"""The index directory: builds, manifests, atomic publishing, incremental updates, locks."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from indexer import build as build_module
from indexer.build import build_index
from indexer.documents import NoDocumentsError
from indexer.embedding import FakeEmbedder
from indexer.local_store import LocalStore as LoadedIndex
from indexer.reader import PassageStore
from indexer.store import (
    CURRENT,
    DATABASE,
    FORMAT_VERSION,
    BuildLockedError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    Manifest,
    build_lock,
    resolve_build,
)
from search_api.engine import SearchEngine, SearchOptions


def test_build_writes_a_self_describing_index(fake_index: Path) -> None:
    build_dir = resolve_build(fake_index)
    manifest = Manifest.read(build_dir)
    assert manifest.model_id == "fake"
    assert manifest.dimension == 32
    assert manifest.documents == 3
    assert manifest.passages > 10
    assert manifest.normalized is True
    assert len(manifest.sources_checksum) == 64
    assert not list(build_dir.glob("*.pkl")) and not list(build_dir.glob("*.pickle"))
    raw = json.loads((build_dir / "manifest.json").read_text())
    assert raw["format_version"] == FORMAT_VERSION


def test_loaded_passages_round_trip_to_document_offsets(fake_index: Path) -> None:
    index = LoadedIndex(fake_index)
    ids = [int(i) for i in index.ids]
    passages = index.passages(ids)
    assert len(passages) == len(ids)
    for passage in passages.values():
        document = index.document(passage.doc_id)
        assert document is not None
        assert document.text[passage.start : passage.end] == passage.text


def test_index_built_with_another_model_is_refused_naming_both(fake_index: Path) -> None:
    other = FakeEmbedder(dimension=16, model_id="other-model")
    with pytest.raises(IndexMismatchError) as err:
        SearchEngine(LoadedIndex(fake_index), other)
    assert "fake" in str(err.value) and "other-model" in str(err.value)


def test_dense_search_equals_brute_force(fake_index: Path, fake_embedder: FakeEmbedder) -> None:
    index = LoadedIndex(fake_index)
    engine = SearchEngine(index, fake_embedder, SearchOptions(statement_weight=0, answer_chars=0, sentence_weight=0))
    vectors = np.asarray(index.vectors)
    for question in ["Who commands Nato forces in Europe?", "cocoa arrivals", "Greenland statement"]:
        hits = engine.search(question, k=5, mode="dense").hits
        query = fake_embedder.encode_queries([question])[0]
        sims = vectors @ query
        expected = sims[np.argsort(-sims)[:5]]
        got = np.array([hit.score for hit in hits])
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="seedsearch build"):
        LoadedIndex(tmp_path / "nowhere")


def test_unchanged_sources_are_not_rebuilt(fake_index: Path, seed_copy: Path, fake_embedder: FakeEmbedder) -> None:
    before = resolve_build(fake_index)
    report = build_index([seed_copy], fake_index, fake_embedder)
    assert report.up_to_date
    assert resolve_build(fake_index) == before


def test_incremental_rebuild_embeds_only_changed_documents(
    fake_index: Path, seed_copy: Path, fake_embedder: FakeEmbedder
) -> None:
    (seed_copy / "cocoa.txt").write_text("Cocoa prices fell sharply on Monday, traders said.\n", encoding="utf-8")
    (seed_copy / "script.md").unlink()
    (seed_copy / "new.txt").write_text("Wheat exports from Argentina rose in March.\n", encoding="utf-8")
    report = build_index([seed_copy], fake_index, fake_embedder)
    assert report.embedded_documents == 2
    assert report.reused_documents == 1
    assert report.removed_documents == 1
    full = build_index([seed_copy], fake_index.parent / "full", fake_embedder, full=True)
    incremental = LoadedIndex(fake_index)
    rebuilt = LoadedIndex(full.index_dir)
    assert incremental.manifest.passages == rebuilt.manifest.passages
    assert incremental.document("script.md") is None
    engine_a = SearchEngine(incremental, fake_embedder)
    engine_b = SearchEngine(rebuilt, fake_embedder)
    for question in ["cocoa prices", "wheat exports Argentina", "What did Poland say?"]:
        texts_a = [h.passage.text for h in engine_a.search(question, k=3).hits]
        texts_b = [h.passage.text for h in engine_b.search(question, k=3).hits]
        assert texts_a == texts_b


def test_editing_one_paragraph_reembeds_only_that_passage(
    fake_index: Path, seed_copy: Path, fake_embedder: FakeEmbedder
) -> None:
    seed = next(p for p in seed_copy.iterdir() if p.name.startswith("000_"))
    before = LoadedIndex(fake_index)
    seed_passages = [p for p in before.passages([int(i) for i in before.ids]).values() if p.doc_id == seed.name]
    last = max(seed_passages, key=lambda p: p.start)
    document = seed.read_text(encoding="utf-8")
    seed.write_text(document.replace(last.text, last.text + " Analysts expect more talks."), encoding="utf-8")
    report = build_index([seed_copy], fake_index, fake_embedder)
    assert report.embedded_documents == 1
    assert report.embedded_passages == 1
    assert report.reused_passages == len(seed_passages) - 1
    full = build_index([seed_copy], fake_index.parent / "full", fake_embedder, full=True)
    assert full.reused_passages == 0
    incremental, rebuilt = LoadedIndex(fake_index), LoadedIndex(full.index_dir)
    by_text_a = {p.text: np.asarray(incremental.vectors[row]) for row, p in _rows(incremental)}
    by_text_b = {p.text: np.asarray(rebuilt.vectors[row]) for row, p in _rows(rebuilt)}
    assert by_text_a.keys() == by_text_b.keys()
    for text, vector in by_text_a.items():
        np.testing.assert_allclose(vector, by_text_b[text], atol=1e-6)


def test_newer_analysis_reanalyses_every_document_without_reembedding(
    fake_index: Path, seed_copy: Path, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = LoadedIndex(fake_index).manifest
    monkeypatch.setattr(build_module, "ANALYSIS_VERSION", build_module.ANALYSIS_VERSION + 1)
    report = build_index([seed_copy], fake_index, fake_embedder)
    assert not report.up_to_date
    assert report.embedded_documents == before.documents
    assert report.embedded_passages == 0 and report.reused_passages == before.passages
    after = LoadedIndex(fake_index).manifest
    assert after.analysis_version == build_module.ANALYSIS_VERSION
    assert build_index([seed_copy], fake_index, fake_embedder).up_to_date


def _rows(index: LoadedIndex) -> list[tuple[int, object]]:
    passages = index.passages([int(i) for i in index.ids])
    return [(row, passages[int(i)]) for row, i in enumerate(index.ids)]


def test_a_new_lexical_version_rewrites_only_the_lexical_index(
    fake_index: Path, seed_copy: Path, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = LoadedIndex(fake_index)
    monkeypatch.setattr(build_module, "LEXICAL_VERSION", build_module.LEXICAL_VERSION + 1)
    report = build_index([seed_copy], fake_index, fake_embedder)
    assert not report.up_to_date and report.embedded_passages == 0 and report.reused_documents == 3
    after = LoadedIndex(fake_index)
    assert after.manifest.lexical_version == build_module.LEXICAL_VERSION
    assert after.build_dir != before.build_dir and _rows(after) == _rows(before)
    assert build_index([seed_copy], fake_index, fake_embedder).up_to_date


def test_a_build_of_the_previous_format_reuses_its_vectors(
    fake_index: Path, seed_copy: Path, fake_embedder: FakeEmbedder
) -> None:
    """Format 2 kept text search in SQLite FTS5; its vectors and passages are still good."""
    build_dir = resolve_build(fake_index)
    raw = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
    (build_dir / "manifest.json").write_text(json.dumps({**raw, "format_version": 2}), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="format version 2"):
        LoadedIndex(fake_index)
    report = build_index([seed_copy], fake_index, fake_embedder)
    assert report.embedded_passages == 0 and report.reused_passages == report.passages
    assert LoadedIndex(fake_index).manifest.format_version == FORMAT_VERSION


def test_joining_short_paragraphs_rebuilds_everything_into_fewer_passages(
    fake_index: Path, seed_copy: Path, fake_embedder: FakeEmbedder
) -> None:
    before = LoadedIndex(fake_index).manifest
    report = build_index([seed_copy], fake_index, fake_embedder, min_tokens=64)
    assert not report.up_to_date and report.reused_documents == 0
    after = LoadedIndex(fake_index)
    assert after.manifest.passage_settings["min_tokens"] == 64
    assert after.manifest.passages < before.passages
    document = after.document("cocoa.txt")
    for passage in after.passages(range(1, after.manifest.passages + 1)).values():
        if passage.doc_id == "cocoa.txt":
            assert document.text[passage.start : passage.end] == passage.text


def test_failed_build_leaves_the_published_index_as_it_was(
    fake_index: Path, seed_copy: Path, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = resolve_build(fake_index)
    (seed_copy / "extra.txt").write_text("A new document about rice harvests.\n", encoding="utf-8")

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(build_module, "save_vector_index", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        build_index([seed_copy], fake_index, fake_embedder)
    assert resolve_build(fake_index) == before
    assert not [p for p in (fake_index / "builds").iterdir() if p.name.startswith(".tmp-")]
    assert LoadedIndex(fake_index).manifest.documents == 3


def test_no_documents_is_an_error_and_keeps_the_index(
    fake_index: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    before = resolve_build(fake_index)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NoDocumentsError):
        build_index([empty], fake_index, fake_embedder)
    assert resolve_build(fake_index) == before


def test_second_build_of_the_same_index_is_refused_while_one_runs(
    fake_index: Path, seed_copy: Path, fake_embedder: FakeEmbedder
) -> None:
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with build_lock(fake_index):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(5)
        (seed_copy / "more.txt").write_text("Another story.\n", encoding="utf-8")
        with pytest.raises(BuildLockedError, match="another build"):
            build_index([seed_copy], fake_index, fake_embedder)
    finally:
        release.set()
        thread.join()
    report = build_index([seed_copy], fake_index, fake_embedder, wait_s=5)
    assert report.documents == 4


def test_edited_manifest_is_refused(fake_index: Path) -> None:
    manifest_path = resolve_build(fake_index) / "manifest.json"
    manifest_path.write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="manifest.json"):
        LoadedIndex(fake_index)


def test_publish_is_a_symlink_swap(fake_index: Path) -> None:
    link = fake_index / CURRENT
    assert link.is_symlink()
    assert (link / "manifest.json").exists()


def test_passages_read_through_the_cache_equal_fresh_reads(fake_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = resolve_build(fake_index) / DATABASE
    ids = list(PassageStore(database).passages(range(1, 10_000)))
    assert len(ids) > 4
    monkeypatch.setattr(PassageStore, "CACHED_PASSAGES", 3)  # forces the cache to empty itself on the way
    cached = PassageStore(database)
    for chunk in (ids[:2], ids[1:4], ids, ids[::-1], ids[:1] + [10**9]):
        fresh = PassageStore(database).passages(chunk)
        assert cached.passages(chunk) == fresh
        assert set(fresh) == set(chunk) - {10**9}


def test_an_undated_story_is_read_as_current_news(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    from datetime import UTC, datetime

    from indexer.data.institutions import official_opposition

    source = tmp_path / "docs"
    source.mkdir()
    (source / "budget.txt").write_text(
        "Budget row\n\nShadow chancellor Oliver Letwin said the plan would cost jobs.\n", encoding="utf-8"
    )
    build_index([source], tmp_path / "index", fake_embedder)
    store = LoadedIndex(tmp_path / "index")
    statements = [st for p in store.passages([int(i) for i in store.ids]).values() for st in p.parsed_statements]
    store.close()
    today = datetime.now(UTC).date().isoformat()
    assert [(st.speaker, st.implied) for st in statements] == [
        ("Oliver Letwin", (official_opposition("country:GB", today),))
    ]
