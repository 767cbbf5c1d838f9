"""backend="auto" on the CPU: the passage backend measured fastest on this machine, cached per CPU signature.

CPUs differ in what runs fast: on AVX-512 with VNNI or AMX int8 passages are ~1.5x bf16, on an AVX2-only CPU
int8 is no faster than fp32 and bf16 is emulated. So the first time "auto" embeds passages on a machine it encodes
the shipped sample passages with every candidate that passes its quality floor (a few seconds each; making the
int8 graph takes ~30 s more, once per model) and keeps the fastest in ``backend-choice.json`` in the cache
directory, keyed by the CPU's model name, flags, threads, runtime versions and the export. Later uses read it;
`seedsearch info` shows it; a server that never embeds passages never measures. Among candidates within
:data:`TIE` of the fastest, the more exact wins (fp32 before bf16 before int8). Questions are single short texts:
they always go through the fused ONNX graph (fp32), the fastest for one text wherever it was measured.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from filelock import FileLock

from indexer.embedding_export import ExportRecord
from indexer.embedding_int8 import ensure_int8, int8_runner, sample_passages
from indexer.embedding_runners import (
    EmbedderError,
    Runner,
    available_backends,
    cpu_count,
    cpu_flags,
    graph_runner,
    has_fast_bf16,
)

CHOICE_FILE = "backend-choice.json"
PASSAGE_CANDIDATES = ("openvino", "onnx", "openvino-bf16", "openvino-int8")  # most exact first
TIE = 0.05  # a less exact backend must be more than 5% faster to be chosen
_SIGNATURE_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_bf16", "amx_int8")


@dataclass(frozen=True)
class BackendChoice:
    """What auto runs on one CPU for passages, and the measurements it was chosen by."""

    passages: str
    passages_per_s: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # candidate -> why it was not measured
    measured_at: str = ""


def cpu_signature(export_folder: Path, threads: int) -> str:
    """What a measurement depends on: the CPU, the cores used, the runtimes and the exported model."""
    model_name = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = sorted(cpu_flags() & set(_SIGNATURE_FLAGS))
    runtimes = []
    for package in ("openvino", "onnxruntime", "nncf"):
        try:
            runtimes.append(f"{package}={version(package)}")
        except PackageNotFoundError:
            runtimes.append(f"{package}=none")
    return " | ".join([model_name, " ".join(flags), f"{threads} threads", " ".join(runtimes), export_folder.name])


def read_choices(cache_dir: Path) -> dict[str, BackendChoice]:
    """Every cached choice, by signature (empty when none was measured or the file is unreadable)."""
    try:
        data = json.loads((cache_dir / CHOICE_FILE).read_text(encoding="utf-8"))
        return {signature: BackendChoice(**choice) for signature, choice in data.items()}
    except (OSError, ValueError, TypeError):
        return {}


def choose_backends(export_folder: Path, tokenizer: Any, counter: Any, threads: int, cache_dir: Path) -> BackendChoice:
    """The cached choice for this CPU, or a new measurement (one process measures; others wait and read it)."""
    signature = cpu_signature(export_folder, threads)
    cached = read_choices(cache_dir).get(signature)
    if cached is not None:
        return cached
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(cache_dir / f".{CHOICE_FILE}.lock"):
        choices = read_choices(cache_dir)
        if signature in choices:
            return choices[signature]
        choice = measure(export_folder, tokenizer, counter, threads)
        choices[signature] = choice
        tmp = cache_dir / f".{CHOICE_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({s: asdict(c) for s, c in choices.items()}, indent=2), encoding="utf-8")
        os.replace(tmp, cache_dir / CHOICE_FILE)
    logging.getLogger(__name__).info("embedding: measured backends here: %s", choice)
    return choice


def start_runner(name: str, export_folder: Path, tokenizer: Any, counter: Any, threads: int) -> Runner:
    """Graph backend `name` over `export_folder`, the int8 passage runner included."""
    plain, fused = export_folder / "model.onnx", export_folder / "model.ort.onnx"
    if name != "openvino-int8":
        return graph_runner(name, plain, fused, tokenizer, threads)
    bf16 = has_fast_bf16()
    exact = graph_runner("openvino-bf16" if bf16 else "openvino", plain, fused, tokenizer, threads)
    return int8_runner(export_folder, tokenizer, counter, exact, threads, bf16=bf16)


def measure(export_folder: Path, tokenizer: Any, counter: Any, threads: int) -> BackendChoice:
    """Encode the sample passages (best of 2 rounds) with each candidate; keep the fastest."""
    record = ExportRecord.read(export_folder)
    calibration, probe = sample_passages()
    passages = calibration + probe
    installed = set(available_backends())
    rates: dict[str, float] = {}
    skipped: dict[str, str] = {}
    for name in PASSAGE_CANDIDATES:
        if name not in installed:
            skipped[name] = "runtime not installed"
            continue
        try:
            if name == "openvino-int8":
                ensure_int8(export_folder).check(export_folder)
            else:
                record.check(name, export_folder)
            runner = start_runner(name, export_folder, tokenizer, counter, threads)
        except EmbedderError as err:
            skipped[name] = str(err)
            continue
        rates[name] = round(_passages_per_second(runner, passages), 2)
    if not rates:
        raise EmbedderError(f"no graph backend could be measured under {export_folder}: {skipped}")
    return BackendChoice(
        passages=fastest(rates), passages_per_s=rates, skipped=skipped,
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def fastest(rates: dict[str, float]) -> str:
    """The fastest backend, or the first in the exact-first order of those within TIE of it."""
    best = max(rates.values())
    return next(name for name, rate in rates.items() if rate >= best * (1 - TIE))  # filled exact-first


def _passages_per_second(runner: Runner, passages: list[str]) -> float:
    runner(passages[:4])  # first call: memory, kernels
    best = 0.0
    for _ in range(2):
        start = time.perf_counter()
        for i in range(0, len(passages), 32):
            runner(passages[i : i + 32])
        best = max(best, len(passages) / (time.perf_counter() - start))
    return best


def describe(cache_dir: Path) -> list[str]:
    """Lines for `seedsearch info`: what auto chose on this CPU, from the cache (nothing is measured here)."""
    here = cpu_signature(Path(), cpu_count()).rsplit(" | ", 1)[0]
    lines = []
    for signature, choice in read_choices(cache_dir).items():
        if signature.rsplit(" | ", 1)[0] != here:
            continue
        rates = ", ".join(f"{name} {rate:.1f}" for name, rate in choice.passages_per_s.items())
        lines.append(
            f"auto backend here (measured {choice.measured_at}): passages {choice.passages}, questions onnx; "
            f"sample passages/s: {rates}"
        )
    return lines or [f"auto backend here: not measured yet (measured on the first build; cache {cache_dir})"]
