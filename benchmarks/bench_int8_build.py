"""int8 passages: whole-process build words/s of `--backend openvino-int8` against `auto` and the naive build.

    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.bench_int8_build [--stories 1000] [--rounds 2] [--out FILE]

The first `--stories` Reuters stories are built from scratch by the naive baseline, by `seedsearch build` with
the backend `auto` picks on this machine, and with `--backend openvino-int8`, in alternating rounds (each build its
own process, timed from launch to exit as in `bench_build`); words/s is the best round of each. An untimed
20-story build with each first makes the exported graphs, the int8 graph and the measured auto choice, so no timed
run pays for them. Also prints the CPU class (AMX, AVX-512 VNNI, AVX2 only), the int8 graph's agreement with the
float graph (`int8.json`) and what `auto` chose here with the sample rates it chose by.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.bench_build import REUTERS, naive_build, product_build, write_stories
from indexer.embedding import DEFAULT_MODEL, DEFAULT_MODEL_ID, cpu_flags, default_cache_dir
from indexer.embedding_choice import describe
from indexer.embedding_export import ensure_export
from indexer.embedding_int8 import Int8Record


def cpu_class() -> str:
    flags = cpu_flags()
    if {"amx_int8", "amx_bf16"} & flags:
        return "AMX"
    if "avx512_vnni" in flags:
        return "AVX-512 VNNI" + (" + BF16" if "avx512_bf16" in flags else "")
    return "AVX2 only" if "avx2" in flags else "no AVX2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="Also write the markdown section to this file.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        warm = write_stories(REUTERS, work / "warm.jsonl", 20)
        corpus = write_stories(REUTERS, work / "stories.jsonl", args.stories)
        builds = {
            "naive": lambda out: naive_build(corpus.path, out, timeout_s=7200)[0],
            "auto": lambda out: product_build([corpus.path], out, full=True, timeout_s=7200).run,
            "openvino-int8": lambda out: product_build(
                [corpus.path], out, full=True, timeout_s=7200, extra=["--backend", "openvino-int8"]
            ).run,
        }
        naive_build(warm.path, work / "warm-naive", timeout_s=3600)
        product_build([warm.path], work / "warm-auto", full=True, timeout_s=3600)
        product_build([warm.path], work / "warm-int8", full=True, timeout_s=3600, extra=["--backend", "openvino-int8"])
        rates: dict[str, float] = dict.fromkeys(builds, 0.0)
        for round_no in range(args.rounds):
            order = list(builds) if round_no % 2 == 0 else list(reversed(builds))
            for name in order:
                run = builds[name](work / f"{name}-{round_no}")
                rate = corpus.words / run.wall_s
                print(f"round {round_no + 1}: {name} {run.wall_s:.1f} s, {rate:,.0f} words/s", flush=True)
                rates[name] = max(rates[name], rate)
        built = json.loads(next((work / f"auto-{args.rounds - 1}").glob("builds/*/manifest.json")).read_text())
    record = Int8Record.read(ensure_export(Path(DEFAULT_MODEL), DEFAULT_MODEL_ID, None))
    naive = rates["naive"]
    lines = [
        f"CPU: {cpu_class()}; {args.stories:,} Reuters stories ({corpus.words:,} words), best of {args.rounds} "
        f"alternating rounds, whole process. `auto` built with passages on `{built['backend']}`.",
        *describe(default_cache_dir()),
        f"int8 graph: lowest cosine to the float graph {record.lowest_cosine:.4f} (mean {record.mean_cosine:.4f}) "
        f"on {record.probe_passages} probe passages; calibrated on {record.calibration_passages} texts.",
        "",
        "| build | words/s | vs naive | vs auto |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {rate:,.0f} | {rate / naive:.2f}x | {rate / rates['auto']:.2f}x |"
            for name, rate in rates.items()
        ),
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
