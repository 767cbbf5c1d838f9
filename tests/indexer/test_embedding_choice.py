"""int8 passages and the measured choice of backend="auto": routing, floors, the cache, and the real model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from indexer import embedding_choice
from indexer.embedding import (
    DEFAULT_MODEL,
    DEFAULT_MODEL_ID,
    EmbedderError,
    available_backends,
    cpu_count,
    load_embedder,
)
from indexer.embedding_choice import CHOICE_FILE, BackendChoice, choose_backends, cpu_signature, read_choices
from indexer.embedding_export import ensure_export
from indexer.embedding_int8 import (
    INT8_FLOOR,
    MIN_INT8_TOKENS,
    Int8PassageRunner,
    Int8Record,
    ensure_int8,
    sample_passages,
)
from indexer.embedding_runners import has_fast_bf16, tokenizer_from_json


class Recorder:
    """A runner that remembers what it was given and answers one constant vector per text."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(texts)
        return np.full((len(texts), 4), self.value, dtype=np.float32)


def _counter() -> object:
    return tokenizer_from_json((Path(DEFAULT_MODEL) / "tokenizer.json").read_text(encoding="utf-8"), None)


def test_int8_runner_sends_only_passages_of_eight_tokens_or_more_to_the_int8_graph() -> None:
    int8, exact = Recorder(1.0), Recorder(2.0)
    runner = Int8PassageRunner(int8, exact, _counter())
    long = "The finance ministry said on Tuesday that the budget deficit would narrow next year."
    texts = ["ok", long, "What did Poland say?", long + " Again."]
    vectors = runner(texts)
    assert exact.calls == [["ok", "What did Poland say?"]]
    assert int8.calls == [[long, long + " Again."]]
    assert vectors[:, 0].tolist() == [2.0, 1.0, 2.0, 1.0]  # each vector back in the place of its text


def test_int8_runner_counts_word_pieces_not_words() -> None:
    int8, exact = Recorder(1.0), Recorder(2.0)
    runner = Int8PassageRunner(int8, exact, _counter())
    pieces = len(_counter().encode("Antidisestablishmentarianism", add_special_tokens=False).ids)  # type: ignore[attr-defined]
    assert pieces >= 4
    runner(["Antidisestablishmentarianism " * 2])  # 2 words, 8+ word pieces
    assert int8.calls and not exact.calls and 2 * pieces >= MIN_INT8_TOKENS


def test_an_int8_graph_under_the_floor_is_refused_with_what_to_use(tmp_path: Path) -> None:
    record = Int8Record(lowest_cosine=INT8_FLOOR - 0.01, mean_cosine=0.99, probe_passages=32,
                        calibration_passages=160, nncf_version="x")
    with pytest.raises(EmbedderError, match=r"under the floor 0\.99.*backend='openvino'"):
        record.check(tmp_path)
    Int8Record(INT8_FLOOR, 0.995, 32, 160, "x").check(tmp_path)


def test_sample_passages_split_in_two_disjoint_halves_of_real_length() -> None:
    calibration, probe = sample_passages()
    assert len(calibration) >= 30 and len(probe) >= 30
    assert not set(calibration) & set(probe)
    assert min(len(p.split()) for p in probe) >= MIN_INT8_TOKENS


@pytest.mark.parametrize(
    ("rates", "chosen"),
    [
        ({"openvino": 20.0, "onnx": 12.0, "openvino-int8": 20.5}, "openvino"),  # within 5%: the exact one
        ({"openvino": 20.0, "onnx": 12.0, "openvino-int8": 30.0}, "openvino-int8"),
        ({"openvino": 20.0, "openvino-bf16": 40.0, "openvino-int8": 41.0}, "openvino-bf16"),
    ],
)
def test_the_fastest_passage_backend_wins_unless_a_more_exact_one_is_within_five_percent(
    rates: dict[str, float], chosen: str
) -> None:
    assert embedding_choice.fastest(rates) == chosen


def test_a_choice_is_measured_once_per_cpu_then_read_and_measured_again_when_the_cache_is_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measured: list[str] = []

    def fake_measure(folder: Path, tokenizer: object, counter: object, threads: int) -> BackendChoice:
        measured.append(folder.name)
        return BackendChoice(passages="openvino", passages_per_s={"openvino": 20.0})

    monkeypatch.setattr(embedding_choice, "measure", fake_measure)
    export = tmp_path / "onnx" / "model-abc"
    cache = tmp_path / "cache"
    assert choose_backends(export, None, None, 2, cache).passages == "openvino"
    assert choose_backends(export, None, None, 2, cache).passages_per_s == {"openvino": 20.0}
    assert measured == ["model-abc"]
    assert cpu_signature(export, 2) in read_choices(cache)
    choose_backends(export, None, None, 1, cache)  # another thread count is another signature
    assert len(measured) == 2
    (cache / CHOICE_FILE).write_text("{not json", encoding="utf-8")
    choose_backends(export, None, None, 2, cache)
    assert len(measured) == 3


@pytest.mark.slow
def test_auto_measures_passage_backends_on_first_use_only_and_reads_the_cache_after(tmp_path: Path) -> None:
    if "onnx" not in available_backends():
        pytest.skip("onnxruntime not installed")
    cache = tmp_path / "cache"
    export = ensure_export(Path(DEFAULT_MODEL), DEFAULT_MODEL_ID, None)  # the session's export, reused
    shutil.copytree(export, cache / "onnx" / export.name)
    embedder = load_embedder(cache_dir=cache)
    assert embedder.encode_queries(["What did Poland say?"]).shape == (1, 384)
    assert getattr(embedder, "query_backend", None) == "onnx"
    assert not (cache / CHOICE_FILE).exists()  # questions alone never measure passage backends
    vectors = embedder.encode_passages(["Poland said Greenland belongs to its people, the minister said."])
    choice = read_choices(cache)[cpu_signature(cache / "onnx" / export.name, cpu_count())]
    assert embedder.backend == choice.passages and vectors.shape == (1, 384)
    assert max(choice.passages_per_s.values()) * 0.95 <= choice.passages_per_s[choice.passages]
    stamp = (cache / CHOICE_FILE).stat().st_mtime_ns
    assert load_embedder(cache_dir=cache).backend == choice.passages
    assert (cache / CHOICE_FILE).stat().st_mtime_ns == stamp  # read, not measured again
    assert f"auto backend here (measured {choice.measured_at})" in "\n".join(embedding_choice.describe(cache))


@pytest.mark.slow
def test_int8_passages_agree_with_fp32_and_short_texts_and_queries_stay_exact() -> None:
    if "openvino-int8" not in available_backends():
        pytest.skip("openvino or nncf not installed")
    int8 = load_embedder(backend="openvino-int8")
    exact_name = "openvino-bf16" if has_fast_bf16() else "openvino"
    exact = load_embedder(backend=exact_name)
    fp32 = load_embedder(backend="openvino")
    record = Int8Record.read(ensure_export(Path(DEFAULT_MODEL), DEFAULT_MODEL_ID, None))
    assert record.lowest_cosine >= INT8_FLOOR
    assert (int8.backend, getattr(int8, "query_backend", None)) == ("openvino-int8", exact_name)
    _, probe = sample_passages()
    cosines = np.sum(int8.encode_passages(probe[:6]) * fp32.encode_passages(probe[:6]), axis=1)
    assert cosines.min() >= INT8_FLOOR and cosines.min() < 0.99999  # the int8 graph really ran
    short = ["ok", "What did Poland say?"]
    np.testing.assert_allclose(int8.encode_passages(short), exact.encode_passages(short), atol=1e-6)
    np.testing.assert_allclose(int8.encode_queries(short), exact.encode_queries(short), atol=1e-6)


def test_an_int8_graph_that_cannot_be_made_is_one_line_naming_the_folder(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError) as info:
        ensure_int8(tmp_path)  # no exported graph here
    message = str(info.value)
    assert message.startswith(f"cannot make the int8 graph under {tmp_path}: ")
    assert "\n" not in message and "export.json" in message
    assert not (tmp_path / "int8.json").exists()
