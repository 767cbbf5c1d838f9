"""Tracing the graph: a plain stack is rebuilt from transformers alone and computes what sentence-transformers
computes; any other stack is traced through sentence-transformers; both exports agree with fp32."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from indexer.embedding import DEFAULT_MODEL, load_sentence_transformer
from indexer.embedding_export import PROBE_TEXTS, ExportRecord, finish_export, write_reference
from indexer.embedding_runners import TorchRunner
from indexer.embedding_trace import _plain_traceable, export_graph, plain_stack

BUNDLED = Path(DEFAULT_MODEL)


def model_copy(tmp_path: Path, pooling: dict[str, object] | None = None, **transformer: object) -> Path:
    """The bundled model's folder with its weights linked and its pooling or transformer settings changed."""
    folder = tmp_path / "model"
    shutil.copytree(BUNDLED, folder, ignore=shutil.ignore_patterns("*.safetensors"))
    (folder / "model.safetensors").symlink_to(BUNDLED / "model.safetensors")
    config = folder / "1_Pooling" / "config.json"
    modes = {"pooling_mode_cls_token": False, "pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": False}
    if pooling is not None:
        config.write_text(json.dumps({**json.loads(config.read_text()), **modes, **pooling}))
    if transformer:
        settings = folder / "sentence_bert_config.json"
        settings.write_text(json.dumps({**json.loads(settings.read_text()), **transformer}))
    return folder


def test_the_bundled_model_is_a_plain_stack() -> None:
    assert plain_stack(BUNDLED) == ("mean", 256)


@pytest.mark.parametrize(
    ("pooling", "transformer"),
    [
        ({"pooling_mode_mean_sqrt_len_tokens": True}, {}),
        ({"pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": True}, {}),
        ({"pooling_mode_mean_tokens": True, "include_prompt": False}, {}),
        (None, {"do_lower_case": True}),
    ],
)
def test_a_stack_transformers_alone_cannot_rebuild_is_not_plain(
    tmp_path: Path, pooling: dict[str, object] | None, transformer: dict[str, object]
) -> None:
    assert plain_stack(model_copy(tmp_path, pooling, **transformer)) is None


def test_an_extra_module_is_not_plain(tmp_path: Path) -> None:
    folder = model_copy(tmp_path)
    modules = json.loads((folder / "modules.json").read_text())
    modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    (folder / "modules.json").write_text(json.dumps(modules))
    assert plain_stack(folder) is None


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["cls", "mean", "max"])
def test_the_rebuilt_plain_stack_computes_what_sentence_transformers_computes(tmp_path: Path, mode: str) -> None:
    folder = model_copy(
        tmp_path, {f"pooling_mode_{mode}_token" if mode == "cls" else f"pooling_mode_{mode}_tokens": True}
    )
    assert plain_stack(folder) == (mode, 256)
    module, names, _, _ = _plain_traceable(folder, mode, 256)
    model = load_sentence_transformer(str(folder), "cpu")
    features = model.preprocess(PROBE_TEXTS)
    with torch.inference_mode():
        rebuilt = module(*(features[k] for k in names)).numpy()
    expected = TorchRunner(model, bf16=False)(PROBE_TEXTS)
    assert np.sum(rebuilt * expected, axis=1).min() >= 0.99999


@pytest.mark.slow
def test_a_stack_that_is_not_plain_is_traced_through_sentence_transformers_and_agrees(tmp_path: Path) -> None:
    folder = model_copy(tmp_path, {"pooling_mode_mean_sqrt_len_tokens": True})
    export = tmp_path / "export"
    write_reference(folder, "sqrt-len", export)
    export_graph(folder, export / "traced.onnx")
    record = finish_export(folder, export)
    assert record.agreement["onnx"] >= 0.999 and record.agreement["openvino"] >= 0.999
    assert ExportRecord.read(export) == record
    files = {p.name for p in export.iterdir()}
    assert files == {
        "model.onnx",
        "model.onnx.data",
        "model.ort.onnx",
        "tokenizer.json",
        "reference.json",
        "export.json",
    }
