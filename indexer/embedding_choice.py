"""backend="auto" on the CPU: the graph backends measured fastest on this machine, cached per CPU signature.

CPUs differ in what runs fast: on AVX-512 with VNNI or AMX int8 passages are ~1.5x bf16, on an AVX2-only CPU
int8 is slower than fp32 and bf16 is emulated. So the first "auto" load on a machine encodes the shipped sample
passages with every candidate that passes its quality floor (a few seconds each; making the int8 graph takes
~30 s more, once per model) and keeps the fastest in ``backend-choice.json`` in the cache directory, keyed by the
CPU's model name, flags, core count, runtime versions and the export. Later loads read it; `seedsearch info`
shows it. Among candidates within :data:`TIE` of the fastest, the more exact wins (fp32 before bf16 before int8).
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

from indexer.embedding_export import PROBE_TEXTS, ExportRecord
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
QUERY_CANDIDATES = ("onnx", "openvino")
TIE = 0.05  # a less exact backend must be more than 5% faster to be chosen
_SIGNATURE_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_bf16", "amx_int8")
_QUESTIONS = ["What did the central bank decide?", "ok", "effects of vitamin D on bone density", "Who won?"]


@dataclass(frozen=True)
class BackendChoice:
    """What auto runs on one CPU: the backends chosen and the measurements they were chosen by."""

    passages: str
    queries: str
    passages_per_s: dict[str, float] = field(default_factory=dict)
    query_ms: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # candidate -> why it was not measured
    cpu: str = ""
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
    exact = "openvino-bf16" if has_fast_bf16() else "openvino"
    return int8_runner(
        export_folder, tokenizer, counter, graph_runner(exact, plain, fused, tokenizer, threads), threads,
        bf16=has_fast_bf16(),
    )


def measure(export_folder: Path, tokenizer: Any, counter: Any, threads: int) -> BackendChoice:
    """Encode the sample passages (best of 2 rounds) and short questions with each candidate; keep the fastest."""
    record = ExportRecord.read(export_folder)
    calibration, probe = sample_passages()
    passages = calibration + probe
    installed = set(available_backends())
    rates: dict[str, float] = {}
    query_ms: dict[str, float] = {}
    skipped: dict[str, str] = {}
    for name in PASSAGE_CANDIDATES:
        if name not in installed:
            skipped[name] = "runtime not installed"
            continue
        try:
            if name == "openvino-int8":
                ensure_int8(export_folder)
            else:
                record.check(name, export_folder)
            runner = start_runner(name, export_folder, tokenizer, counter, threads)
        except EmbedderError as err:
            skipped[name] = str(err)
            continue
        rates[name] = round(_passages_per_second(runner, passages), 2)
        if name in QUERY_CANDIDATES:
            query_ms[name] = round(_query_ms(runner), 3)
    if not rates:
        raise EmbedderError(f"no graph backend could be measured under {export_folder}: {skipped}")
    passages_choice = _fastest(rates, higher_is_better=True)
    queries_choice = _fastest(query_ms, higher_is_better=False) if query_ms else passages_choice
    return BackendChoice(
        passages=passages_choice, queries=queries_choice, passages_per_s=rates, query_ms=query_ms, skipped=skipped,
        cpu=cpu_signature(export_folder, threads), measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _fastest(scores: dict[str, float], *, higher_is_better: bool) -> str:
    """The best-scoring backend, or the first in the exact-first order of those within TIE of it."""
    best = max(scores.values()) if higher_is_better else min(scores.values())
    close = [
        name for name, score in scores.items()
        if (score >= best * (1 - TIE) if higher_is_better else score <= best * (1 + TIE))
    ]
    return close[0]  # `scores` is filled in the exact-first order of the candidates


def _passages_per_second(runner: Runner, passages: list[str]) -> float:
    runner(passages[:4])  # first call: memory, kernels
    best = 0.0
    for _ in range(2):
        start = time.perf_counter()
        for i in range(0, len(passages), 32):
            runner(passages[i : i + 32])
        best = max(best, len(passages) / (time.perf_counter() - start))
    return best


def _query_ms(runner: Runner) -> float:
    texts = [*PROBE_TEXTS, *_QUESTIONS] * 3
    runner(texts[:1])
    times = []
    for text in texts:
        start = time.perf_counter()
        runner([text])
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]


def describe(cache_dir: Path) -> list[str]:
    """Lines for `seedsearch info`: what auto chose on this CPU, from the cache (nothing is measured here)."""
    here = cpu_signature(Path(), cpu_count()).rsplit(" | ", 1)[0]
    lines = []
    for signature, choice in read_choices(cache_dir).items():
        if signature.rsplit(" | ", 1)[0] != here:
            continue
        rates = ", ".join(f"{name} {rate:.1f}" for name, rate in choice.passages_per_s.items())
        lines.append(
            f"auto backend here (measured {choice.measured_at}): passages {choice.passages}, queries "
            f"{choice.queries}; sample passages/s: {rates}"
        )
    return lines or [f"auto backend here: not measured yet (measured on the first build; cache {cache_dir})"]
