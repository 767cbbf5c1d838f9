"""The vector index: exact Flat equals brute force, HNSW and IVF-PQ (+ re-rank) find the true neighbours, files
round-trip (memory-mapped too), passage ids survive, and the size rule picks flat for small collections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.vector_index import (
    FLAT_MAX_COUNT,
    HNSW_MAX_COUNT,
    VectorIndexInfo,
    VectorSearcher,
    build_vector_index,
    choose_kind,
    load_vector_index,
    save_vector_index,
)

DIM = 64


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _clustered(n: int, seed: int, clusters: int = 200, spread: float = 0.6) -> np.ndarray:
    """Unit vectors around ``clusters`` random centres: neighbour structure like real embeddings."""
    rng = np.random.default_rng(seed)
    centres = _normalise(rng.standard_normal((clusters, DIM)))
    points = centres[rng.integers(0, clusters, n)] + spread / np.sqrt(DIM) * rng.standard_normal((n, DIM))
    return _normalise(points)


def _brute_force(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = queries @ vectors.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), order


def _overlap(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


@pytest.fixture(scope="module")
def clustered() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """20k indexed vectors, their ids (not positions), and 200 held-out queries from the same clusters."""
    data = _clustered(20_200, seed=3)
    ids = np.arange(20_000, dtype=np.int64) * 7 + 1_000
    return data[:20_000], ids, data[20_000:]


@pytest.fixture(scope="module")
def hnsw(clustered):
    vectors, ids, _ = clustered
    return build_vector_index(vectors, ids, kind="hnsw")


@pytest.fixture(scope="module")
def ivfpq(clustered):
    vectors, ids, _ = clustered
    return build_vector_index(vectors, ids, kind="ivfpq")


def test_flat_equals_brute_force_allowing_ties():
    rng = np.random.default_rng(0)
    vectors = _normalise(rng.standard_normal((3_000, DIM)))
    vectors[1] = vectors[0]  # an exact tie
    ids = np.arange(3_000, dtype=np.int64) + 50
    queries = np.vstack([vectors[0], _normalise(rng.standard_normal((30, DIM)))])
    index, info = build_vector_index(vectors, ids, kind="flat")
    scores, found = VectorSearcher(index, info).search(queries, 10)

    true_scores, true_rows = _brute_force(vectors, queries, 10)
    np.testing.assert_allclose(scores, true_scores, atol=1e-5)
    # Every returned id has the score it was returned with, so tied neighbours may come in either order.
    rows = found - 50
    np.testing.assert_allclose(np.einsum("qkd,qd->qk", vectors[rows], queries), scores, atol=1e-5)
    assert set(found[0, :2]) == {50, 51}
    assert info.kind == "flat" and info.recall_at_10 is None and info.search_params == {}


def test_hnsw_finds_the_exact_top10(clustered, hnsw):
    vectors, ids, queries = clustered
    index, info = hnsw
    _, found = VectorSearcher(index, info).search(queries, 10)
    _, true_rows = _brute_force(vectors, queries, 10)
    assert _overlap(found, ids[true_rows]) >= 0.9
    assert info.kind == "hnsw" and info.factory.startswith("IDMap,HNSW")
    assert info.recall_at_10 is not None and info.recall_at_10 >= 0.9
    assert set(info.search_params) == {"efSearch"}


def test_ivfpq_with_exact_rerank_finds_the_exact_top10(clustered, ivfpq):
    vectors, ids, queries = clustered
    index, info = ivfpq
    scores, found = VectorSearcher(index, info, vectors=vectors).search(queries, 10)
    true_scores, true_rows = _brute_force(vectors, queries, 10)
    assert _overlap(found, ids[true_rows]) >= 0.9
    # Re-ranked scores are exact inner products, not PQ approximations.
    rows = (found - 1_000) // 7
    np.testing.assert_allclose(np.einsum("qkd,qd->qk", vectors[rows], queries), scores, atol=1e-5)
    assert info.kind == "ivfpq" and "PQ" in info.factory
    assert info.search_params["rerank"] > 0 and info.search_params["nprobe"] > 0
    assert info.recall_at_10 is not None and info.recall_at_10 >= 0.9


def test_rerank_beats_compressed_scores_alone(clustered, ivfpq):
    vectors, ids, queries = clustered
    index, info = ivfpq
    _, true_rows = _brute_force(vectors, queries, 10)
    _, reranked = VectorSearcher(index, info, vectors=vectors).search(queries, 10)
    codes_only = info.model_copy(update={"search_params": {"nprobe": info.search_params["nprobe"]}})
    _, approximate = VectorSearcher(index, codes_only).search(queries, 10)
    assert _overlap(reranked, ids[true_rows]) > _overlap(approximate, ids[true_rows])


def test_ivfpq_without_vectors_says_what_to_pass(tmp_path, ivfpq):
    index, info = ivfpq
    save_vector_index(index, tmp_path / "vectors.faiss")
    with pytest.raises(ValueError, match="vectors.npy"):
        load_vector_index(tmp_path / "vectors.faiss", info)


@pytest.mark.parametrize("mmap", [False, True])
@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivfpq"])
def test_save_load_round_trip_gives_the_same_results(tmp_path, clustered, hnsw, ivfpq, kind, mmap):
    vectors, ids, queries = clustered
    index, info = {"hnsw": hnsw, "ivfpq": ivfpq}.get(kind) or build_vector_index(vectors, ids, kind="flat")
    before = VectorSearcher(index, info, vectors=vectors).search(queries, 10)
    path = tmp_path / "vectors.faiss"
    save_vector_index(index, path)
    after = load_vector_index(path, info, mmap=mmap, vectors=vectors).search(queries, 10)
    np.testing.assert_array_equal(after[1], before[1])
    np.testing.assert_allclose(after[0], before[0], atol=1e-6)


def test_memory_mapped_index_searches_a_file_on_disk(tmp_path, clustered, hnsw):
    vectors, ids, queries = clustered
    index, info = hnsw
    path = tmp_path / "vectors.faiss"
    save_vector_index(index, path)
    np.save(tmp_path / "vectors.npy", vectors)
    searcher = load_vector_index(path, info, mmap=True, vectors=np.load(tmp_path / "vectors.npy", mmap_mode="r"))
    _, found = searcher.search(vectors[123], 1)
    assert found.tolist() == [[ids[123]]]


def test_ids_are_passage_ids_not_positions(clustered, hnsw, ivfpq):
    vectors, ids, _ = clustered
    rows = np.array([0, 1, 9_999, 19_999])
    for index, info in (hnsw, ivfpq):
        scores, found = VectorSearcher(index, info, vectors=vectors).search(vectors[rows], 1)
        assert found[:, 0].tolist() == ids[rows].tolist()
        np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)


def test_k_beyond_the_collection_pads_with_minus_one():
    vectors = _clustered(5, seed=1)
    index, info = build_vector_index(vectors, np.arange(10, 15), kind="flat")
    scores, found = VectorSearcher(index, info).search(vectors[:2], 8)
    assert found.shape == (2, 8)
    assert sorted(found[0, :5].tolist()) == [10, 11, 12, 13, 14]
    assert (found[:, 5:] == -1).all() and np.isneginf(scores[:, 5:]).all()


def test_empty_collection_searches_to_nothing(tmp_path):
    index, info = build_vector_index(np.zeros((0, DIM), np.float32), np.zeros(0, np.int64))
    save_vector_index(index, tmp_path / "v.faiss")
    _, found = load_vector_index(tmp_path / "v.faiss", info).search(_clustered(1, seed=2), 3)
    assert info.kind == "flat" and found.tolist() == [[-1, -1, -1]]


def test_choose_kind_is_flat_for_small_collections_then_approximate():
    assert choose_kind(0) == "flat"
    assert choose_kind(10_000) == "flat"
    assert choose_kind(FLAT_MAX_COUNT) == "flat"
    assert choose_kind(FLAT_MAX_COUNT + 1) == "hnsw"
    assert choose_kind(HNSW_MAX_COUNT + 1) == "ivfpq"


def test_auto_builds_flat_for_a_small_collection():
    vectors = _clustered(500, seed=4)
    _, info = build_vector_index(vectors, np.arange(500))
    assert info.kind == "flat" and info.count == 500 and info.dimension == DIM


def test_info_survives_a_manifest_round_trip(hnsw):
    _, info = hnsw
    assert VectorIndexInfo.from_dict(info.to_dict()) == info
    with pytest.raises(ValueError, match="Unknown vector index kind"):
        VectorIndexInfo.from_dict({**info.to_dict(), "kind": "bogus"})


def test_load_refuses_a_file_that_does_not_match_the_manifest(tmp_path, clustered, hnsw):
    index, info = hnsw
    save_vector_index(index, tmp_path / "v.faiss")
    with pytest.raises(ValueError, match="rebuild the index"):
        load_vector_index(tmp_path / "v.faiss", info.model_copy(update={"count": info.count + 1}))
    with pytest.raises(FileNotFoundError, match="rebuild"):
        load_vector_index(tmp_path / "missing.faiss", info)


@pytest.mark.parametrize(
    ("vectors", "ids", "message"),
    [
        (np.ones((3, DIM), np.float32), np.arange(3), "L2-normalised"),
        (_clustered(3, seed=5), np.array([1, 1, 2]), "unique"),
        (_clustered(3, seed=5), np.arange(4), "shape"),
        (_clustered(3, seed=5), np.array([-1, 0, 1]), ">= 0"),
    ],
)
def test_build_refuses_bad_input(vectors, ids, message):
    with pytest.raises(ValueError, match=message):
        build_vector_index(vectors, ids)


def test_ivfpq_refuses_too_few_vectors():
    with pytest.raises(ValueError, match="at least"):
        build_vector_index(_clustered(1_000, seed=6), np.arange(1_000), kind="ivfpq")


def test_queries_of_the_wrong_dimension_are_refused(hnsw):
    index, info = hnsw
    with pytest.raises(ValueError, match=f"\\(nq, {DIM}\\)"):
        VectorSearcher(index, info).search(np.ones((1, DIM + 1), np.float32), 5)


def test_unknown_path_type_is_accepted_as_str(tmp_path, hnsw):
    index, info = hnsw
    save_vector_index(index, Path(str(tmp_path)) / "sub" / "v.faiss")
    assert load_vector_index(tmp_path / "sub" / "v.faiss", info).info == info


def test_manifest_that_does_not_fit_the_file_is_refused(tmp_path, hnsw):
    index, info = hnsw
    save_vector_index(index, tmp_path / "v.faiss")
    with pytest.raises(ValueError, match="rebuild"):
        load_vector_index(tmp_path / "v.faiss", info.model_copy(update={"kind": "flat", "search_params": {}}))
    with pytest.raises(ValueError, match="nprobe"):
        load_vector_index(tmp_path / "v.faiss", info.model_copy(update={"search_params": {"nprobe": 8}}))
    with pytest.raises(ValueError, match="efSearch"):
        load_vector_index(tmp_path / "v.faiss", info.model_copy(update={"search_params": {"efSearch": 0}}))


def test_every_vector_finds_its_own_id(clustered, hnsw, ivfpq):
    # The build holds a sample out while tuning and adds it last: its ids must still line up.
    vectors, ids, _ = clustered
    thorough = {"hnsw": {"efSearch": 256}, "ivfpq": {"nprobe": 32, "rerank": 100}}
    for index, info in (hnsw, ivfpq):
        thorough_info = info.model_copy(update={"search_params": thorough[info.kind]})
        searcher = VectorSearcher(index, thorough_info, vectors=vectors)
        _, found = searcher.search(vectors, 1)
        assert np.mean(found[:, 0] == ids) >= 0.999, info.kind


def test_ivfpq_reranks_from_a_memory_mapped_vectors_file(tmp_path, clustered, ivfpq):
    vectors, _, queries = clustered
    index, info = ivfpq
    save_vector_index(index, tmp_path / "vectors.faiss")
    np.save(tmp_path / "vectors.npy", vectors)
    mapped = np.load(tmp_path / "vectors.npy", mmap_mode="r")
    on_disk = load_vector_index(tmp_path / "vectors.faiss", info, mmap=True, vectors=mapped).search(queries, 10)
    in_memory = VectorSearcher(index, info, vectors=vectors).search(queries, 10)
    np.testing.assert_array_equal(on_disk[1], in_memory[1])
    np.testing.assert_allclose(on_disk[0], in_memory[0], atol=1e-6)
