"""The exported graph serves without torch, and its agreement with fp32, measured once at export, is enforced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from indexer.embedding import DEFAULT_MODEL, DEFAULT_MODEL_ID, EmbedderError, available_backends, load_embedder
from indexer.embedding_export import ExportRecord, export_dir, fingerprint

REPO = Path(__file__).resolve().parents[2]
needs_onnx = pytest.mark.skipif("onnx" not in available_backends(), reason="onnxruntime/onnx not installed")


def test_fingerprint_changes_with_the_model_files_and_not_with_their_place(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        (folder / "config.json").write_text('{"hidden_size": 384}')
        (folder / "model.safetensors").write_bytes(b"w" * 1000)
    assert fingerprint(first) == fingerprint(second)
    (second / "model.safetensors").write_bytes(b"v" + b"w" * 999)
    assert fingerprint(first) != fingerprint(second)


def write_record(cache: Path, agreement: dict[str, float]) -> Path:
    folder = export_dir(Path(DEFAULT_MODEL), DEFAULT_MODEL_ID, cache)
    folder.mkdir(parents=True)
    record = ExportRecord(DEFAULT_MODEL_ID, 384, 256, 0, "[PAD]", agreement)
    (folder / "export.json").write_text(json.dumps(asdict(record)))
    return folder


@needs_onnx
def test_a_graph_recorded_under_the_agreement_floor_is_refused(tmp_path: Path) -> None:
    folder = write_record(tmp_path, {"onnx": 0.97})
    with pytest.raises(EmbedderError, match=r"agreement with torch fp32 is 0\.9700") as caught:
        load_embedder(backend="onnx", cache_dir=tmp_path)
    assert str(folder / "export.json") in str(caught.value)


@needs_onnx
def test_a_backend_never_measured_is_refused(tmp_path: Path) -> None:
    write_record(tmp_path, {})
    with pytest.raises(EmbedderError, match="was not measured"):
        load_embedder(backend="onnx", cache_dir=tmp_path)


@pytest.mark.slow
@needs_onnx
def test_serving_embedder_never_imports_torch_and_agrees_with_fp32() -> None:
    code = """
import json, sys
import numpy as np
from indexer.embedding import load_embedder
embedder = load_embedder()
queries = embedder.encode_queries(["What did Poland say?", "cocoa harvest in Bahia"])
passages = embedder.encode_passages(["Poland said Greenland belongs to its people."])
print(json.dumps({"torch": "torch" in sys.modules, "backend": embedder.query_backend,
                  "queries": queries.tolist(), "passages": passages.tolist()}))
"""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["torch"] is False and result["backend"] == "onnx"
    reference = load_embedder(backend="torch-fp32")
    import numpy as np

    expected = reference.encode_queries(["What did Poland say?", "cocoa harvest in Bahia"])
    assert np.sum(np.asarray(result["queries"]) * expected, axis=1).min() >= 0.999
    expected = reference.encode_passages(["Poland said Greenland belongs to its people."])
    assert np.sum(np.asarray(result["passages"]) * expected, axis=1).min() >= 0.995
    record = ExportRecord.read(export_dir(Path(DEFAULT_MODEL), DEFAULT_MODEL_ID, None))
    assert record.agreement["onnx"] >= 0.999 and record.dimension == 384
