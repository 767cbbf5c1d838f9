"""Behaviour of the embedding module: the fake embedder for plumbing, the real bundled model for meaning."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from indexer.embedding import (
    DEFAULT_MODEL,
    DEFAULT_MODEL_ID,
    Embedder,
    EmbedderError,
    FakeEmbedder,
    auto_backends,
    available_backends,
    load_embedder,
)
from tests import paths

REPO = Path(__file__).resolve().parents[2]
REUTERS = paths.REUTERS


def _real_passages(n: int = 6) -> list[str]:
    """A few real news passages: Reuters stories where available, else paragraphs of the seed article."""
    if REUTERS.exists():
        out: list[str] = []
        with REUTERS.open(encoding="utf-8") as fh:
            for line in fh:
                words = json.loads(line)["text"].split()
                if len(words) >= 60:
                    out.append(" ".join(words[:120]))
                if len(out) == n:
                    return out
    paragraphs = [p for f in sorted((REPO / "seeds").glob("*.txt")) for p in f.read_text().split("\n") if p]
    return paragraphs[:n]


# --------------------------------------------------------------------------- batching, shared by every backend


def test_progress_bar_shows_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    FakeEmbedder().encode_passages(["a b", "c d", "e f"], batch_size=2)
    assert "Embedding" not in capsys.readouterr().err
    FakeEmbedder().encode_passages(["a b", "c d", "e f"], batch_size=2, progress=True)
    assert "3/3" in capsys.readouterr().err


def test_empty_input_gives_empty_matrix() -> None:
    assert FakeEmbedder().encode_passages([]).shape == (0, 32)
    assert FakeEmbedder().encode_queries([]).shape == (0, 32)


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(EmbedderError, match="unknown backend"):
        load_embedder(backend="tpu-magic")


def test_cuda_without_gpu_is_a_clear_error() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(EmbedderError, match="no CUDA GPU"):
        load_embedder(device="cuda")


def test_unknown_model_offline_is_an_embedder_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    with pytest.raises(EmbedderError) as info:
        load_embedder("no-such-org/no-such-model-xyz", cache_dir=tmp_path)
    message = str(info.value)
    assert "no-such-org/no-such-model-xyz" in message
    assert "downloads are disabled" in message
    assert "local" in message


def test_auto_only_picks_installed_backends() -> None:
    passages, queries = auto_backends()
    assert {passages, queries} <= set(available_backends())
    assert auto_backends("cuda") == ("torch-fp16", "torch-fp32")


# --------------------------------------------------------------------------- real bundled model


@pytest.fixture(scope="module")
def real() -> Embedder:
    return load_embedder(backend="torch-fp32")


@pytest.mark.slow
def test_real_model_gives_normalised_384d_vectors(real: Embedder) -> None:
    assert real.model_id == DEFAULT_MODEL_ID
    assert (real.dimension, real.max_seq_length) == (384, 256)
    vectors = real.encode_passages(_real_passages(4), batch_size=3)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_real_model_puts_a_paraphrase_closer_than_an_unrelated_sentence(real: Embedder) -> None:
    query = real.encode_queries(["How much did oil prices rise after the OPEC meeting?"])[0]
    paraphrase, unrelated = real.encode_passages(
        [
            "Crude prices climbed sharply once OPEC ministers finished their talks.",
            "The recipe needs two eggs, flour and a pinch of salt.",
        ]
    )
    assert query @ paraphrase > query @ unrelated + 0.2


@pytest.mark.slow
def test_passages_keep_input_order_whatever_the_batching(real: Embedder) -> None:
    texts = _real_passages(5) + ["short one", "a"]
    one_by_one = np.vstack([real.encode_queries([t]) for t in texts])
    np.testing.assert_allclose(real.encode_passages(texts, batch_size=2), one_by_one, atol=1e-4)


@pytest.mark.slow
def test_count_tokens_matches_the_tokenizer_and_does_not_truncate(real: Embedder) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(DEFAULT_MODEL)
    long_text = " ".join(["market"] * 1000)
    texts = ["Cocoa arrivals in Bahia rose.", long_text, ""]
    expected = [len(tokenizer(t, add_special_tokens=True, truncation=False)["input_ids"]) for t in texts]
    assert real.count_tokens(texts) == expected
    assert real.count_tokens([long_text])[0] > 256


@pytest.mark.slow
def test_default_model_by_path_or_hub_id_records_the_hub_id() -> None:
    assert load_embedder(DEFAULT_MODEL, backend="torch-fp32").model_id == DEFAULT_MODEL_ID
    assert load_embedder(DEFAULT_MODEL_ID, backend="torch-fp32").model_id == DEFAULT_MODEL_ID


@pytest.fixture(scope="module")
def graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export cache for the module, so each graph is exported once."""
    return tmp_path_factory.mktemp("graphs")


@pytest.mark.slow
@pytest.mark.parametrize("backend", [b for b in available_backends() if b != "torch-fp16"])  # fp16: CUDA only
def test_every_backend_agrees_with_fp32(real: Embedder, backend: str, graph_cache: Path) -> None:
    texts = _real_passages(6) + ["What did the central bank decide?"]
    reference = real.encode_passages(texts)
    other = load_embedder(backend=backend, cache_dir=graph_cache)
    assert other.backend == backend or backend == "auto"
    assert (other.model_id, other.dimension) == (real.model_id, real.dimension)
    for vectors in (other.encode_passages(texts, batch_size=4), other.encode_queries(texts[-2:])):
        cosines = np.sum(vectors * reference[-len(vectors) :], axis=1)
        assert cosines.min() >= 0.995, (backend, cosines)


@pytest.mark.slow
def test_exported_graph_is_cached_and_reused(graph_cache: Path) -> None:
    if "onnx" not in available_backends():
        pytest.skip("onnxruntime/onnx not installed")
    load_embedder(backend="onnx", cache_dir=graph_cache)
    graphs = sorted(graph_cache.rglob("*.onnx"))
    stamps = [g.stat().st_mtime_ns for g in graphs]
    assert graphs, "the export should land in cache_dir"
    load_embedder(backend="onnx", cache_dir=graph_cache)
    assert sorted(graph_cache.rglob("*.onnx")) == graphs
    assert [g.stat().st_mtime_ns for g in graphs] == stamps


@pytest.mark.slow
def test_broken_cached_graph_is_an_error_for_onnx_and_a_fallback_for_auto(tmp_path: Path) -> None:
    if "onnx" not in available_backends():
        pytest.skip("onnxruntime/onnx not installed")
    load_embedder(backend="onnx", cache_dir=tmp_path)
    for graph in tmp_path.rglob("*.onnx"):
        graph.write_bytes(b"not a graph")
    with pytest.raises(EmbedderError, match="delete that folder"):
        load_embedder(backend="onnx", cache_dir=tmp_path)
    auto = load_embedder(cache_dir=tmp_path)
    assert auto.backend.startswith("torch-") and getattr(auto, "query_backend", "").startswith("torch-")
    vector = auto.encode_queries(["still works"])
    assert vector.shape == (1, 384)


def _thread_affinities() -> set[str]:
    found = set()
    for status in Path(f"/proc/{os.getpid()}/task").glob("*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:  # the thread ended while we looked
            continue
        found.update(line.split()[1] for line in lines if line.startswith("Cpus_allowed_list"))
    return found


@pytest.mark.slow
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 or "openvino" not in available_backends(), reason="needs 2 cores")
def test_an_openvino_encoder_using_fewer_cores_than_the_process_has_pins_no_thread() -> None:
    # pinned, two single-thread encoders (Ray actors, server workers) share the first core and run at half speed
    embedder = load_embedder(backend="openvino", threads=1)
    texts = ["Warsaw said it would veto the budget, officials in Brussels told reporters on Monday."] * 100
    whole = _thread_affinities()
    seen: set[str] = set()
    encoding = threading.Thread(target=embedder.encode_passages, args=(texts,))
    encoding.start()
    while encoding.is_alive():
        seen |= _thread_affinities()
    encoding.join()
    assert seen == whole
