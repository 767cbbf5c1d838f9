"""Could int8 speed up passage embedding within the quality guard? OpenVINO bf16 (what builds use) vs int8 graphs.

The study that led to `openvino-int8` (`bench_int8_build.py` measures the shipped backend). About 4 minutes:

    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.bench_int8_graphs [--out FILE]

Variants, all compiled by OpenVINO with bf16 where int8 does not apply:
- static int8: `nncf.quantize` (transformer preset, SmoothQuant, fast bias correction) calibrated on 300 Reuters
  passages of varied length and 100 SciFact queries, none of which are in the test texts below;
- int8 weights + dynamic activations: `nncf.compress_weights` (int8 asymmetric, per channel, no data), with
  OpenVINO quantising activations at run time in groups of 32, 64 or 128 values.
Lowest cosine to torch fp32 over 480 Reuters passages, 200 SciFact queries and the short texts the embedder
probes at load (each alone, so no padding hides them); passages/s is the best of 3 interleaved rounds over the
480 passages (120 words, batch 64). The guard a default backend must pass is a lowest cosine >= 0.995.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_encoders import reuters_passages, short_queries
from indexer import embedding as E
from indexer import embedding_export as X
from indexer import embedding_runners as R

SHORT_TEXTS = [*X.PROBE_TEXTS, "yes", "hi", "What did Poland say?"]


def _varied_lengths(texts: list[str], seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for text in texts:
        words = text.split()
        out.append(" ".join(words[: rng.randint(min(5, len(words)), len(words))]))
    return out


def main() -> None:
    import nncf
    import openvino as ov

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Also write the markdown section to this file.")
    args = parser.parse_args()
    load_start = os.getloadavg()

    model = E.load_sentence_transformer(E.DEFAULT_MODEL, "cpu")
    plain = X.ensure_export(Path(E.DEFAULT_MODEL), E.DEFAULT_MODEL_ID, None) / "model.onnx"
    tokenizer = R.copy_tokenizer(model.tokenizer, max_length=256)
    inputs = R.GraphInputs(tokenizer, ["input_ids", "attention_mask", "token_type_ids"])
    reference = R.TorchRunner(model, bf16=False)
    core = ov.Core()

    stories = reuters_passages(780, words=120)
    passages, queries = stories[:480], short_queries(300)
    calibration = _varied_lengths(stories[480:]) + queries[200:]
    calibration_batches = [inputs(calibration[i : i + 8]) for i in range(0, len(calibration), 8)]

    graphs: dict[str, tuple[Any, dict[str, Any]]] = {"openvino-bf16 (shipped)": (str(plain), {})}
    graphs["static int8 (nncf.quantize)"] = (
        nncf.quantize(
            core.read_model(str(plain)),
            nncf.Dataset(calibration_batches),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(calibration_batches),
        ),
        {},
    )
    weights_int8 = nncf.compress_weights(core.read_model(str(plain)), mode=nncf.CompressWeightsMode.INT8_ASYM)
    for group in (32, 64, 128):
        dynamic = {"DYNAMIC_QUANTIZATION_GROUP_SIZE": group}
        graphs[f"int8 weights, dynamic activations /{group}"] = (weights_int8, dynamic)

    def runner(graph: Any, extra: dict[str, Any]) -> Any:
        config = {"INFERENCE_NUM_THREADS": E.cpu_count(), "INFERENCE_PRECISION_HINT": "bf16", **extra}
        request = core.compile_model(graph, "CPU", {"PERFORMANCE_HINT": "LATENCY", **config}).create_infer_request()
        return lambda texts: R.normalise(request.infer(inputs(texts))[0])

    runners = {name: runner(graph, extra) for name, (graph, extra) in graphs.items()}
    checked = passages + queries[:200]
    expected = np.vstack([reference(checked[i : i + 32]) for i in range(0, len(checked), 32)])
    expected_short = np.vstack([reference([t]) for t in SHORT_TEXTS])
    rates: dict[str, float] = dict.fromkeys(runners, 0.0)
    for _ in range(3):
        for name, encode in runners.items():
            encode(passages[:8])
            start = time.perf_counter()
            for i in range(0, len(passages), 64):
                encode(passages[i : i + 64])
            rates[name] = max(rates[name], len(passages) / (time.perf_counter() - start))
    rows = []
    for name, encode in runners.items():
        vectors = np.vstack([encode(checked[i : i + 32]) for i in range(0, len(checked), 32)])
        short = np.vstack([encode([t]) for t in SHORT_TEXTS])
        lowest = float((vectors * expected).sum(1).min())
        lowest_short = float((short * expected_short).sum(1).min())
        base = rates["openvino-bf16 (shipped)"]
        passes = min(lowest, lowest_short) >= 0.995
        rows.append(
            f"| {name} | {rates[name]:.1f} | {rates[name] / base:.2f}x | {lowest:.4f} | {lowest_short:.4f} | "
            f"{'yes' if passes else 'no'} |"
        )
    load_end = os.getloadavg()
    text = "\n".join(
        [
            f"Load average (1 min) {load_start[0]:.2f} at start, {load_end[0]:.2f} at end; {E.cpu_count()} cores.",
            "",
            "| graph | passages/s | vs bf16 | lowest cosine, passages + queries | lowest cosine, short texts | "
            "guard (>= 0.995) |",
            "|---|---:|---:|---:|---:|---|",
            *rows,
        ]
    )
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
