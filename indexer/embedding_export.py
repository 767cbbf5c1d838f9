"""Export a sentence-transformers model once to an ONNX graph, checked against fp32 and recorded beside it.

An export folder (under ``~/.cache/seedsearch/onnx`` unless a cache dir is given) holds ``model.onnx`` (for
OpenVINO), ``model.ort.onnx`` (fused for onnxruntime), ``tokenizer.json`` and ``export.json``: the model id,
dimension, maximum sequence length, padding token and, per graph backend, the lowest cosine between its
vectors and torch fp32's on probe texts, measured once when the graph was exported. A folder is named after a
fingerprint of the model's files, so it is found without loading torch, and a changed model never reuses a
stale graph. The export itself needs torch: :func:`ensure_export` runs it in a child process
(``python -m indexer.embedding_export``), so the process that asks never imports torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer.embedding_runners import (
    EmbedderError,
    Runner,
    TorchRunner,
    available_backends,
    copy_tokenizer,
    cpu_count,
    graph_runner,
    load_sentence_transformer,
)

EXPORT_FORMAT = 2  # bump when the export recipe changes, so stale cached graphs are not reused
GRAPH_BACKENDS = ("onnx", "openvino", "openvino-bf16")
AGREEMENT_FLOOR = {"onnx": 0.999, "openvino": 0.999, "openvino-bf16": 0.995}
_FUSABLE_TYPES = {"bert", "roberta", "xlm-roberta", "distilbert", "mpnet"}
_SAMPLE_BYTES = 4 * 1024 * 1024
PROBE_TEXTS = [
    "Showers continued throughout the week in the cocoa zone, alleviating the drought since early January.",
    "What did the central bank decide about interest rates?",
    "ok",
    "Greenland belongs to its people, the Danish prime minister said after talks with allies in Brussels.",
]


@dataclass(frozen=True)
class ExportRecord:
    """``export.json``: what the exported graph is and how closely each backend agrees with torch fp32."""

    model_id: str
    dimension: int
    max_seq_length: int
    pad_id: int
    pad_token: str
    agreement: dict[str, float] = field(default_factory=dict)  # backend -> lowest cosine with fp32
    format: int = EXPORT_FORMAT

    @classmethod
    def read(cls, folder: Path) -> ExportRecord:
        data = json.loads((folder / "export.json").read_text(encoding="utf-8"))
        return cls(**data)

    def check(self, backend: str, folder: Path) -> None:
        """Refuse a backend whose recorded agreement with fp32 is under its floor (or was never measured)."""
        cosine = self.agreement.get(backend)
        if cosine is None or cosine < AGREEMENT_FLOOR[backend]:
            measured = "was not measured" if cosine is None else f"is {cosine:.4f}"
            raise EmbedderError(
                f"backend {backend!r}: its agreement with torch fp32 {measured} (floor "
                f"{AGREEMENT_FLOOR[backend]}, recorded in {folder / 'export.json'}); delete that folder to "
                "export again, or use backend='torch-fp32'"
            )


def default_cache_dir() -> Path:
    """Where exported graphs are kept unless `cache_dir` is given: ~/.cache/seedsearch."""
    return Path.home() / ".cache" / "seedsearch"


def _slug(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model_id.strip("/"))[-60:]


def fingerprint(model_folder: Path) -> str:
    """Hash of a model folder's file names, sizes and contents (large files by their first and last 4 MB)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"format={EXPORT_FORMAT}".encode())
    for path in sorted(p for p in model_folder.rglob("*") if p.is_file()):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(model_folder).as_posix()}:{size};".encode())
        with path.open("rb") as handle:
            digest.update(handle.read(_SAMPLE_BYTES))
            if size > 2 * _SAMPLE_BYTES:
                handle.seek(-_SAMPLE_BYTES, os.SEEK_END)
                digest.update(handle.read())
    return digest.hexdigest()


def export_dir(model_folder: Path, model_id: str, cache_dir: Path | None) -> Path:
    return (cache_dir or default_cache_dir()) / "onnx" / f"{_slug(model_id)}-{fingerprint(model_folder)}"


def ensure_export(model_folder: Path, model_id: str, cache_dir: Path | None) -> Path:
    """The export folder of the model, exported first (in a child process that loads torch) when missing."""
    folder = export_dir(model_folder, model_id, cache_dir)
    if (folder / "export.json").exists():
        return folder
    command = [sys.executable, "-m", "indexer.embedding_export", str(model_folder), model_id, str(folder)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not (folder / "export.json").exists():
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise EmbedderError(f"cannot export model {model_id!r} to ONNX under {folder}: {lines[-1]}")
    return folder


# --------------------------------------------------------------------------------------------- with torch


def export_model(model: Any, model_id: str, folder: Path) -> ExportRecord:
    """Export the loaded sentence-transformers `model` into `folder`, measure each backend, write export.json."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        plain, fused = folder / "model.onnx", folder / "model.ort.onnx"
        if not plain.exists():
            _export_onnx(model, plain)
        if not fused.exists():
            try:
                made = _fuse_for_onnxruntime(model, plain, fused)
            except Exception:  # the fused graph is an optimisation only: fall back to the plain one
                made = False
            if not made:
                _atomic_copy(plain.read_bytes(), fused)
        hf_tokenizer = model.tokenizer
        _atomic_copy(hf_tokenizer.backend_tokenizer.to_str().encode("utf-8"), folder / "tokenizer.json")
    except OSError as err:
        raise EmbedderError(
            f"cannot write the exported ONNX graph under {folder}: {err}. Pass a writable cache_dir."
        ) from err
    record = ExportRecord(
        model_id=model_id,
        dimension=int(model.get_embedding_dimension()),
        max_seq_length=int(model.max_seq_length or 512),
        pad_id=int(hf_tokenizer.pad_token_id if hf_tokenizer.pad_token_id is not None else 0),
        pad_token=str(hf_tokenizer.pad_token or "[PAD]"),
    )
    record.agreement.update(measure_agreement(model, record, folder))
    _atomic_copy(json.dumps(asdict(record), indent=2).encode("utf-8"), folder / "export.json")
    return record


def measure_agreement(model: Any, record: ExportRecord, folder: Path) -> dict[str, float]:
    """The lowest cosine with torch fp32 on the probe texts, for each graph backend installed here."""
    reference = TorchRunner(model, bf16=False)(PROBE_TEXTS)
    tokenizer = copy_tokenizer(model.tokenizer, max_length=record.max_seq_length)
    agreement: dict[str, float] = {}
    for name in GRAPH_BACKENDS:
        if name not in available_backends():
            continue
        try:
            runner: Runner = graph_runner(
                name, folder / "model.onnx", folder / "model.ort.onnx", tokenizer, cpu_count()
            )
        except EmbedderError as err:
            logging.getLogger(__name__).warning("export: %s", err)
            continue
        agreement[name] = round(float(np.sum(reference * runner(PROBE_TEXTS), axis=1).min()), 6)
    return agreement


def _atomic_copy(data: bytes, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _exportable(model: Any, names: list[str]) -> Any:
    """The module stack as a torch module with positional tensors in and one normalised tensor out."""
    import torch

    class _Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            out = self.inner.forward(dict(zip(names, tensors, strict=True)))["sentence_embedding"]
            return torch.nn.functional.normalize(out, p=2.0, dim=-1)

    return _Graph().eval()


def _export_onnx(model: Any, target: Path) -> None:
    """Export the module stack to ONNX with dynamic batch and sequence axes (eager attention traces cleanly)."""
    import warnings

    import torch

    transformer: Any = model[0].auto_model if hasattr(model[0], "auto_model") else None
    previous = getattr(getattr(transformer, "config", None), "_attn_implementation", None)
    sample = model.preprocess(["An example passage for tracing the graph.", "short"])
    names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in sample]
    tensors = tuple(sample[k] for k in names)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    switch = transformer is not None and previous not in (None, "eager")
    try:
        if switch:
            try:
                transformer.set_attn_implementation("eager")
            except Exception:  # older transformers or no eager kernel: trace the current attention instead
                switch = False
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _exportable(model, names),
                tensors,
                str(tmp),
                dynamo=False,
                opset_version=17,
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={**{k: {0: "batch", 1: "sequence"} for k in names}, "sentence_embedding": {0: "batch"}},
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        if switch:
            transformer.set_attn_implementation(previous)


def _fuse_for_onnxruntime(model: Any, plain: Path, target: Path) -> bool:
    """Fuse attention/LayerNorm/GELU for onnxruntime (BERT-like models only); False where it does not apply."""
    config = getattr(getattr(model[0], "auto_model", None), "config", None)
    if config is None or getattr(config, "model_type", None) not in _FUSABLE_TYPES:
        return False
    from onnxruntime.transformers.optimizer import optimize_model

    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    fused = optimize_model(
        str(plain),
        model_type="bert",
        num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size),
        opt_level=1,
    )
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fused.save_model_to_file(str(tmp))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def main(argv: list[str]) -> int:
    """``python -m indexer.embedding_export MODEL_FOLDER MODEL_ID EXPORT_FOLDER``: export, measure, record."""
    model_folder, model_id, folder = argv
    try:
        export_model(load_sentence_transformer(model_folder, "cpu"), model_id, Path(folder))
    except Exception as err:  # one line for the parent's error message
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
