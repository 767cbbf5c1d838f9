"""What entity resolution and statement attribution add to a query (target: under 5 ms).

An index of the seed article plus the first Reuters stories is built with the bundled model. For each benchmark
question the engine's own steps run as in a search, and two of them are timed apart from the rest: resolving
the question's countries, organisations and intent (`parse_question`), and scoring the attributed statements of
every shortlisted candidate against that intent (the statement boost). Passages come from the store's cache,
as they do in a warm server.

    python -m benchmarks.bench_analysis [--quick] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import Section, Table, Target, percentile, report
from benchmarks.bench_build import REUTERS, write_stories
from benchmarks.bench_query import QUESTIONS, build_seed_index

Log = Callable[[str], None]
TARGET_MS = 5.0


def build_index(workdir: Path, stories: int) -> Path:
    index_dir = workdir / "index"
    if not REUTERS.exists():
        build_seed_index(index_dir)
        return index_dir
    write_stories(REUTERS, workdir / "stories.jsonl", stories)
    build_seed_index(index_dir, workdir / "stories.jsonl")
    return index_dir


def measure(index_dir: Path, rounds: int) -> tuple[list[float], list[float], int, int]:
    """Milliseconds per question for parse_question and for the boosts; passages and candidates per question."""
    from indexer.embedding import load_embedder
    from indexer.local_store import LocalStore as LoadedIndex
    from indexer.settings import EncoderSettings
    from search_api.boosts import statement_boost
    from search_api.engine import SearchEngine
    from search_api.fusion import SearchOptions, fuse
    from search_api.question import parse_question
    from search_api.settings import SearchSettings

    settings = EncoderSettings()
    options = SearchOptions.from_settings(SearchSettings())
    engine = SearchEngine(LoadedIndex(index_dir), load_embedder(settings.model), options)
    pool = engine.options.candidates
    vectors = engine.embedder.encode_queries(list(QUESTIONS))
    shortlists = []
    for question, vector in zip(QUESTIONS, vectors, strict=True):
        fused = fuse(engine.candidates(question, vector, "hybrid", pool), engine.options, "hybrid")
        shortlist = sorted(fused, key=fused.__getitem__, reverse=True)[:pool]
        shortlists.append(list(engine.index.passages(shortlist).values()))
    parse_ms: list[float] = []
    boost_ms: list[float] = []
    for _ in range(rounds):
        for question, passages in zip(QUESTIONS, shortlists, strict=True):
            start = time.perf_counter()
            intent = parse_question(question, engine.resolver)
            parsed = time.perf_counter()
            for passage in passages:
                statement_boost(intent, passage, engine.options.statement_weight)
            done = time.perf_counter()
            parse_ms.append((parsed - start) * 1000)
            boost_ms.append((done - parsed) * 1000)
    candidates = round(sum(len(p) for p in shortlists) / len(shortlists))
    return parse_ms, boost_ms, engine.index.manifest.passages, candidates


def run(quick: bool = False, log: Log = print) -> Section:
    stories, rounds = (300, 5) if quick else (3000, 20)
    workdir = Path(tempfile.mkdtemp(prefix="seedsearch-bench-analysis-"))
    try:
        log(f"analysis: building the seed article + {stories} Reuters stories")
        index_dir = build_index(workdir, stories)
        log("analysis: timing parse_question and the statement boosts")
        parse_ms, boost_ms, passages, candidates = measure(index_dir, rounds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    total = [a + b for a, b in zip(parse_ms, boost_ms, strict=True)]
    rows = tuple(
        (name, f"{percentile(ms, 50):.3f}", f"{percentile(ms, 99):.3f}", f"{max(ms):.3f}")
        for name, ms in (
            ("entities + intent of the question (`parse_question`)", parse_ms),
            (f"statement boosts over the shortlist (~{candidates} passages)", boost_ms),
            ("both: what the analysis adds to a query", total),
        )
    )
    table = Table(
        f"Index of the seed article + {stories} Reuters stories ({passages:,} passages); {len(QUESTIONS)} "
        f"questions x {rounds} rounds, one at a time:",
        ("step", "p50 ms", "p99 ms", "max ms"),
        rows,
    )
    worst = percentile(total, 99)
    target = Target(
        "entities + attribution added to a query",
        f"< {TARGET_MS:.0f} ms",
        f"p50 {percentile(total, 50):.3f} ms, p99 {worst:.3f} ms",
        worst < TARGET_MS,
    )
    notes = ["Highlights also look at the speakers of the top k passages; that is inside the engine time, not here."]
    return Section("Question analysis", [table], notes, [target])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 stories and 5 rounds instead of 3,000 and 20.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the section as markdown here.")
    args = parser.parse_args(argv)
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    text = run(args.quick).to_markdown()
    report(text, args.out)


if __name__ == "__main__":
    main()
