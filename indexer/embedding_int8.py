"""int8 passages: a statically quantised copy of the exported graph, for the CPUs where int8 runs faster.

``nncf.quantize`` (transformer preset, SmoothQuant) calibrates the plain graph on half of the sample passages
shipped in ``indexer/data/sample_passages.txt`` (written for the project) and on their sentences, and writes
``model.int8.xml`` beside the export, with ``int8.json``: the lowest cosine between its vectors and the float
graph's on the other half, each passage encoded alone. The graph is made once per model, in a child process
(``python -m indexer.embedding_int8 FOLDER``), and only when int8 is asked for or measured by ``backend="auto"``;
loading it needs OpenVINO alone.

Queries never go through it, nor do passages under :data:`MIN_INT8_TOKENS` tokens: int8 drifts most on very short
texts (lowest cosine 0.92 on two-word texts, 0.994 on passages, in the study of ``benchmarks/bench_int8_graphs.py``).
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from indexer.embedding_export import ExportRecord
from indexer.embedding_runners import (
    EmbedderError,
    OpenVinoRunner,
    Runner,
    child_main,
    cpu_count,
    run_child,
)

INT8_FLOOR = 0.99  # lowest cosine to the float graph on passage-length texts
MIN_INT8_TOKENS = 8  # shorter passages (word pieces, without [CLS]/[SEP]) are encoded by the float graph
SAMPLE_PASSAGES = Path(__file__).parent / "data" / "sample_passages.txt"
INT8_GRAPH = "model.int8.xml"
INT8_RECORD = "int8.json"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sample_passages() -> tuple[list[str], list[str]]:
    """The shipped sample passages split in two: (calibration, probe); every other passage goes to each."""
    passages = [p.strip() for p in SAMPLE_PASSAGES.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return passages[0::2], passages[1::2]


@dataclass(frozen=True)
class Int8Record:
    """``int8.json``: how the int8 graph was made and how closely it agrees with the float graph."""

    lowest_cosine: float
    mean_cosine: float
    probe_passages: int
    calibration_passages: int
    nncf_version: str

    @classmethod
    def read(cls, folder: Path) -> Int8Record:
        return cls(**json.loads((folder / INT8_RECORD).read_text(encoding="utf-8")))

    def check(self, folder: Path) -> None:
        """Refuse an int8 graph whose agreement with the float graph is under :data:`INT8_FLOOR`."""
        if self.lowest_cosine < INT8_FLOOR:
            raise EmbedderError(
                f"backend 'openvino-int8': its lowest cosine to the float graph on passages is "
                f"{self.lowest_cosine:.4f}, under the floor {INT8_FLOOR} (recorded in {folder / INT8_RECORD}); "
                "use backend='openvino' or 'auto'"
            )


def ensure_int8(folder: Path) -> Int8Record:
    """The int8 graph of export `folder` and its record, made first (in a child process) when missing."""
    if not (folder / INT8_RECORD).exists():
        with FileLock(folder / ".int8.lock"):  # a second process waits, then reuses the graph
            if not (folder / INT8_RECORD).exists():
                run_child("indexer.embedding_int8", [str(folder)], f"cannot make the int8 graph under {folder}")
    return Int8Record.read(folder)


def make_int8(folder: Path) -> Int8Record:
    """Quantise ``model.onnx`` of export `folder` to ``model.int8.xml`` and measure it (the child's work)."""
    import logging

    import nncf
    import openvino as ov

    logging.getLogger("nncf").setLevel(logging.ERROR)
    tokenizer, _ = ExportRecord.read(folder).tokenizers(folder)
    calibration, probe = sample_passages()
    calibration += [s for p in calibration for s in _SENTENCE_END.split(p) if len(s.split()) >= 4]
    plain = folder / "model.onnx"
    float_graph = OpenVinoRunner(plain, tokenizer, cpu_count(), bf16=False)
    batches = [float_graph.inputs(calibration[i : i + 8]) for i in range(0, len(calibration), 8)]
    core = ov.Core()
    model = core.read_model(str(plain))
    quantised = nncf.quantize(
        model, nncf.Dataset(batches), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(batches),
        ignored_scope=nncf.IgnoredScope(names=_feed_forward_outputs(model), validate=False),
    )
    staging = folder / f".int8-{os.getpid()}"
    staging.mkdir(exist_ok=True)
    try:
        ov.save_model(quantised, str(staging / INT8_GRAPH))
        int8_graph = OpenVinoRunner(staging / INT8_GRAPH, tokenizer, cpu_count(), bf16=False)
        cosines = [float(np.sum(int8_graph([text]) * float_graph([text]))) for text in probe]
        record = Int8Record(
            lowest_cosine=round(min(cosines), 6),
            mean_cosine=round(float(np.mean(cosines)), 6),
            probe_passages=len(probe),
            calibration_passages=len(calibration),
            nncf_version=str(nncf.__version__),
        )
        os.replace(staging / "model.int8.bin", folder / "model.int8.bin")
        os.replace(staging / INT8_GRAPH, folder / INT8_GRAPH)
    finally:
        for leftover in staging.iterdir():
            leftover.unlink()
        staging.rmdir()
    tmp = folder / f".{INT8_RECORD}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(asdict(record), indent=2), encoding="utf-8")
    os.replace(tmp, folder / INT8_RECORD)
    return record


def _feed_forward_outputs(model: Any) -> list[str]:
    """The MatMuls that take each layer's GELU output back to the hidden size: int8 there costs the most
    agreement (lowest cosine on the probe passages 0.9906 with them quantised, 0.9930 without)."""
    return [
        op.get_friendly_name()
        for op in model.get_ops()
        if op.get_type_name() == "MatMul"
        and re.search(r"layers?\.\d+/output/dense", op.get_friendly_name())
    ]


class Int8PassageRunner:
    """Passages of :data:`MIN_INT8_TOKENS` tokens or more through the int8 graph, shorter ones through `exact`."""

    name = "openvino-int8"

    def __init__(self, int8: Runner, exact: Runner, tokenizer: Any) -> None:
        self._int8 = int8
        self._exact = exact
        self._tokenizer = tokenizer

    def __call__(self, texts: list[str]) -> np.ndarray:
        lengths = [len(e.ids) - 2 for e in self._tokenizer.encode_batch(texts, add_special_tokens=True)]
        short = [i for i, n in enumerate(lengths) if n < MIN_INT8_TOKENS]
        if not short:
            return self._int8(texts)
        long = [i for i, n in enumerate(lengths) if n >= MIN_INT8_TOKENS]
        parts = [(short, self._exact([texts[i] for i in short]))]
        if long:
            parts.append((long, self._int8([texts[i] for i in long])))
        vectors = np.empty((len(texts), parts[0][1].shape[1]), dtype=np.float32)
        for rows, part in parts:
            vectors[rows] = part
        return vectors


def int8_runner(folder: Path, tokenizer: Any, counter: Any, exact: Runner, threads: int, *, bf16: bool) -> Runner:
    """The int8 passage runner of export `folder` (whose record the caller has checked against the floor)."""
    try:
        graph = OpenVinoRunner(folder / INT8_GRAPH, tokenizer, threads, bf16=bf16)
    except Exception as err:
        raise EmbedderError(
            f"cannot start backend 'openvino-int8' from {folder} ({type(err).__name__}: {err}); delete "
            f"{folder / INT8_RECORD} to make the graph again, or use backend='openvino'"
        ) from err
    return Int8PassageRunner(graph, exact, counter)


def main(argv: list[str]) -> int:
    """``python -m indexer.embedding_int8 EXPORT_FOLDER``: make the int8 graph of an export."""
    return child_main(lambda: make_int8(Path(argv[0])))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
