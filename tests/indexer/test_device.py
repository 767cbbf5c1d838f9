"""Device choice on the CPU: `auto` follows what torch sees, CUDA asked for without a GPU is one clear error,
fp16 passages only under the quality guard, batch sizes by device. Only `torch.cuda.is_available` is mocked."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from indexer import embedding
from indexer.embedding import (
    DEFAULT_MODEL,
    EmbedderError,
    auto_backends,
    fp16_agrees,
    load_embedder,
    load_sentence_transformer,
    passage_batch_size,
    resolve_device,
)
from indexer.embedding_runners import TorchRunner


def gpu_visible(monkeypatch: pytest.MonkeyPatch, visible: bool) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: visible)


def test_auto_is_cuda_when_torch_sees_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    gpu_visible(monkeypatch, True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda:1") == "cuda:1"
    assert auto_backends("cuda") == ("torch-fp16", "torch-fp32")


def test_auto_without_a_gpu_runs_on_the_cpu_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    gpu_visible(monkeypatch, False)
    with caplog.at_level(logging.WARNING, logger="indexer.embedding"):
        assert resolve_device("auto") == "cpu"
    assert "torch sees no CUDA GPU, so the encoder runs on the CPU" in caplog.text


def test_cuda_without_a_gpu_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    gpu_visible(monkeypatch, False)
    with pytest.raises(EmbedderError, match=r"torch sees no CUDA GPU.*use --device cpu, or --device auto") as caught:
        load_embedder(device="cuda")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("device", ["gpu", "tpu", "cuda0x"])
def test_unknown_devices_are_refused(device: str) -> None:
    with pytest.raises(EmbedderError, match="unknown device"):
        resolve_device(device)


def test_cpu_only_backends_are_refused_on_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    gpu_visible(monkeypatch, True)
    with pytest.raises(EmbedderError, match="runs on the CPU only"):
        load_embedder(backend="openvino", device="cuda")
    gpu_visible(monkeypatch, False)
    with pytest.raises(EmbedderError, match="torch-fp16' runs on a CUDA GPU only"):
        load_embedder(backend="torch-fp16", device="cpu")


def test_batch_sizes_follow_the_device() -> None:
    assert passage_batch_size("cpu") == 64
    assert passage_batch_size("cuda", 16 * 2**30) == 512
    assert passage_batch_size("cuda", 2 * 2**30) == 128
    assert passage_batch_size("cuda", 141 * 2**30) == 1024
    assert passage_batch_size("cuda", None) == 128


@pytest.mark.slow
def test_fp16_passages_pass_the_guard_and_fall_back_to_fp32_below_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    model = load_sentence_transformer(DEFAULT_MODEL, "cpu")  # fp16 matmuls run on the CPU too, slowly
    fp32 = TorchRunner(model, bf16=False)
    half = embedding._guarded_fp16(model, fp32)
    assert half.name == "torch-fp16"
    assert fp16_agrees(half, fp32) >= embedding.FP16_FLOOR
    texts = ["Cocoa arrivals rose to 155,221 bags.", "What did Poland say?"]
    assert np.allclose(np.linalg.norm(half(texts), axis=1), 1.0, atol=1e-3)
    monkeypatch.setattr(embedding, "FP16_FLOOR", 1.01)
    with caplog.at_level(logging.WARNING, logger="indexer.embedding"):
        assert embedding._guarded_fp16(model, fp32) is fp32
    assert "under the floor" in caplog.text
