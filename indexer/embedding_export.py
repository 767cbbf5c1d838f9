"""Export a sentence-transformers model once to an ONNX graph, checked against fp32 and recorded beside it.

An export folder (under ``~/.cache/seedsearch/onnx`` unless a cache dir is given) holds ``model.onnx`` (for
OpenVINO) with its weights in ``model.onnx.data``, ``model.ort.onnx`` (fused for onnxruntime, reading the same
weights), ``tokenizer.json``, ``reference.json`` (the model's own fp32 vectors of the probe texts) and
``export.json``: the model id, dimension, maximum sequence length, padding token and, per graph backend, the lowest
cosine between its vectors and torch fp32's, measured once when the graph was exported. A folder is named after a
fingerprint of the model's files, so it is found without loading torch, and a changed model never reuses a stale
graph. The export needs torch: :func:`ensure_export` runs it in child processes (``python -m
indexer.embedding_export``), so the process that asks never imports torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from indexer.embedding_runners import (
    EmbedderError,
    TorchRunner,
    available_backends,
    child_main,
    cpu_count,
    graph_runner,
    load_sentence_transformer,
    run_child,
    tokenizer_from_json,
)

EXPORT_FORMAT = 3  # bump when the export recipe changes, so stale cached graphs are not reused
GRAPH_BACKENDS = ("onnx", "openvino", "openvino-bf16")
STAGES = ("reference", "graph", "finish")
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

    def tokenizers(self, folder: Path) -> tuple[Any, Any]:
        """The export's tokenizer as the graph wants it (truncating, padding), and one that only counts."""
        json_text = (folder / "tokenizer.json").read_text(encoding="utf-8")
        return (
            tokenizer_from_json(json_text, self.max_seq_length, self.pad_id, self.pad_token),
            tokenizer_from_json(json_text, None),
        )

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
    """The export folder of the model, exported first when missing, by three child processes in turn.

    ``reference`` loads the model with sentence-transformers and keeps its vectors of the probe texts; ``graph``
    traces the graph (the torch side, `indexer.embedding_trace`); ``finish`` folds its constants, fuses it for
    onnxruntime and measures every graph backend against the reference, without torch. One child each, so that no
    process holds torch, sentence-transformers and the graph runtimes at once; the one that asks never imports torch.
    """
    folder = export_dir(model_folder, model_id, cache_dir)
    if (folder / "export.json").exists():
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise EmbedderError(
            f"cannot create {folder} for the exported model: {err}. Pass a writable cache_dir."
        ) from err
    with FileLock(folder / ".export.lock"):  # two processes exporting at once: the second waits, then reuses
        if (folder / "export.json").exists():
            return folder
        for stage in STAGES:
            run_child("indexer.embedding_export", [stage, str(model_folder), model_id, str(folder)],
                      f"cannot export model {model_id!r} to ONNX under {folder}")
    if not (folder / "export.json").exists():
        raise EmbedderError(f"cannot export model {model_id!r} to ONNX under {folder}: export.json was not written")
    return folder


def write_reference(model_folder: Path, model_id: str, folder: Path) -> None:
    """``reference.json``: what the model is (dimension, sequence length, padding) and its fp32 probe vectors."""
    model = load_sentence_transformer(str(model_folder), "cpu")
    hf_tokenizer = model.tokenizer
    record = ExportRecord(
        model_id=model_id,
        dimension=int(model.get_embedding_dimension()),
        max_seq_length=int(model.max_seq_length or 512),
        pad_id=int(hf_tokenizer.pad_token_id if hf_tokenizer.pad_token_id is not None else 0),
        pad_token=str(hf_tokenizer.pad_token or "[PAD]"),
    )
    vectors = TorchRunner(model, bf16=False)(PROBE_TEXTS)
    _write(folder / "tokenizer.json", hf_tokenizer.backend_tokenizer.to_str().encode("utf-8"))
    reference = {"record": asdict(record), "vectors": vectors.tolist()}
    _write(folder / "reference.json", json.dumps(reference).encode("utf-8"))


def finish_export(model_folder: Path, folder: Path) -> ExportRecord:
    """Fold and fuse the traced graph, measure each backend against the reference, write export.json last."""
    reference = json.loads((folder / "reference.json").read_text(encoding="utf-8"))
    record = ExportRecord(**reference["record"])
    plain, fused = folder / "model.onnx", folder / "model.ort.onnx"
    _fold_constants(folder)
    try:
        made = _fuse_for_onnxruntime(model_folder, folder)
    except Exception:  # the fused graph is an optimisation only: fall back to the plain one
        made = False
    if not made:
        _write(fused, plain.read_bytes())
    vectors = np.asarray(reference["vectors"], dtype=np.float32)
    record.agreement.update(measure_agreement(vectors, record, folder))
    _write(folder / "export.json", json.dumps(asdict(record), indent=2).encode("utf-8"))
    return record


def measure_agreement(reference: np.ndarray, record: ExportRecord, folder: Path) -> dict[str, float]:
    """The lowest cosine with torch fp32's `reference` vectors of the probe texts, per graph backend installed."""
    tokenizer, _ = record.tokenizers(folder)
    agreement: dict[str, float] = {}
    for name in GRAPH_BACKENDS:
        if name in available_backends():
            cosine = _lowest_cosine(name, reference, tokenizer, folder)
            if cosine is not None:
                agreement[name] = cosine
    return agreement


def _lowest_cosine(name: str, reference: np.ndarray, tokenizer: Any, folder: Path) -> float | None:
    """One backend at a time, each runtime released before the next starts."""
    try:
        runner = graph_runner(name, folder / "model.onnx", folder / "model.ort.onnx", tokenizer, cpu_count())
    except EmbedderError as err:
        logging.getLogger(__name__).warning("export: %s", err)
        return None
    return round(float(np.sum(reference * runner(PROBE_TEXTS), axis=1).min()), 6)


def _write(target: Path, data: bytes) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as err:
        raise EmbedderError(
            f"cannot write {target.name} under {target.parent}: {err}. Pass a writable cache_dir."
        ) from err


def _fold_constants(folder: Path) -> None:
    """``traced.onnx`` -> ``model.onnx`` (weights in ``model.onnx.data``) with constants folded by onnxruntime.

    Its basic level only folds and removes redundant nodes, so the graph keeps to standard ONNX operators and
    OpenVINO reads it too; the fusions below recognise only a folded graph. Written in a staging folder and moved
    in, weights first, so a process reading an earlier export of the same model never sees half a file.
    """
    import onnxruntime as ort

    staging = folder / f".fold-{os.getpid()}"
    staging.mkdir(exist_ok=True)
    try:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(staging / "model.onnx")
        options.add_session_config_entry("session.optimized_model_external_initializers_file_name", "model.onnx.data")
        options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 3
        ort.InferenceSession(str(folder / "traced.onnx"), options, providers=["CPUExecutionProvider"])
        os.replace(staging / "model.onnx.data", folder / "model.onnx.data")
        os.replace(staging / "model.onnx", folder / "model.onnx")
    finally:
        for leftover in staging.iterdir():
            leftover.unlink()
        staging.rmdir()
    for traced in ("traced.onnx", "traced.onnx.data"):
        (folder / traced).unlink(missing_ok=True)


def _fuse_for_onnxruntime(model_folder: Path, folder: Path) -> bool:
    """Fuse attention/LayerNorm/GELU into ``model.ort.onnx`` (BERT-like models only); False where it does not apply.

    The plain graph is read without its weights (``model.onnx.data``): the fusions read the few tensors they merge
    from the file themselves, the fused graph keeps pointing into the same data file for the rest, and the step
    needs tens of megabytes, not several times the model.
    """
    config = json.loads((model_folder / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") not in _FUSABLE_TYPES:
        return False
    import onnx
    from onnxruntime.transformers.optimizer import optimize_model

    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    here = Path.cwd()
    tmp = folder / f".model.ort.onnx.{os.getpid()}.tmp"
    os.chdir(folder)  # external tensors are found relative to the working directory (this child is the export's)
    try:
        plain = onnx.load("model.onnx", load_external_data=False)
        fused = optimize_model(
            plain,
            model_type="bert",
            num_heads=int(config["num_attention_heads"]),
            hidden_size=int(config["hidden_size"]),
            opt_level=0,
        )
        fused.save_model_to_file(tmp.name)
        os.replace(tmp.name, "model.ort.onnx")
    finally:
        tmp.unlink(missing_ok=True)
        os.chdir(here)
    return True


def main(argv: list[str]) -> int:
    """``python -m indexer.embedding_export STAGE MODEL_FOLDER MODEL_ID EXPORT_FOLDER``: one stage of the export."""
    stage, model_folder, model_id, folder = argv
    if stage == "reference":
        return child_main(lambda: write_reference(Path(model_folder), model_id, Path(folder)))
    if stage == "graph":
        return child_main(lambda: _trace(Path(model_folder), Path(folder)))
    return child_main(lambda: finish_export(Path(model_folder), Path(folder)))


def _trace(model_folder: Path, folder: Path) -> None:
    from indexer.embedding_trace import export_graph

    folder.mkdir(parents=True, exist_ok=True)
    export_graph(model_folder, folder / "traced.onnx")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
