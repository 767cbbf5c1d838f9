"""Who-said-what over a whole news collection: answer quality and what naming a party costs a query.

Runs the Reuters attribution development set (`../shared/eval/reuters_attribution_dev.jsonl`) against an index
of all 19,043 Reuters stories (build it first, see the README) and reports hit@1, hit@3 and MRR@5, then times
each question twice through the engine, as a warm server runs it: as asked, and with its party left out (the
party's words removed, so no statement boost runs). The target is at most 5 ms more at the median.

    python -m benchmarks.bench_attribution --index /path/to/reuters-index [--rounds 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import Section, Table, Target, percentile, report

Log = Callable[[str], None]
TARGET_MS = 5.0
QUESTIONS = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "reuters_attribution_dev.jsonl"


def without_party(question: str) -> str:
    """The question with the parties it names removed ("What did Japan say about X?" -> "What did say about X?")."""
    from indexer.entities import EntityResolver

    for mention in reversed(EntityResolver.default().find(question)):
        before = re.sub(r"\b[Tt]he\s+$", "", question[: mention.start])
        question = before + question[mention.end :]
    return re.sub(r"\s+", " ", question).strip()


def timed(search: Callable[[str], object], question: str, rounds: int) -> float:
    """Median milliseconds of one search over ``rounds`` runs (after one warm-up)."""
    search(question)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        search(question)
        times.append((time.perf_counter() - start) * 1000)
    return percentile(times, 50)


def run(index: Path, questions: Path = QUESTIONS, rounds: int = 5, log: Log = print) -> Section:
    from indexer.embedding import load_embedder
    from indexer.local_store import LocalStore
    from indexer.settings import EncoderSettings
    from search_api.contract import Mode
    from search_api.engine import SearchEngine
    from search_api.evaluation import engine_search, evaluate_questions
    from search_api.fusion import SearchOptions
    from search_api.settings import SearchSettings

    settings = EncoderSettings()
    embedder = load_embedder(
        settings.model, backend=settings.backend, device=settings.device, cache_dir=settings.cache_dir
    )
    engine = SearchEngine(LocalStore(index), embedder, SearchOptions.from_settings(SearchSettings()))
    log(f"attribution: evaluating {questions.name} on {engine.index.manifest.passages:,} passages")
    report = evaluate_questions(engine_search(engine, Mode.HYBRID), questions)
    asked = [json.loads(line)["question"] for line in questions.read_text(encoding="utf-8").splitlines() if line]
    with_ms = [timed(lambda q: engine.search(q, k=5), q, rounds) for q in asked]
    without_ms = [timed(lambda q: engine.search(q, k=5), without_party(q), rounds) for q in asked]
    extra = [a - b for a, b in zip(with_ms, without_ms, strict=True)]
    quality = Table(
        f"{questions.name} on {engine.index.manifest.passages:,} passages (hybrid, k=5):",
        ("questions", "hit@1", "hit@3", "MRR@5"),
        ((str(report.questions), f"{report.hit_at_1:.3f}", f"{report.hit_at_3:.3f}", f"{report.mrr_at_5:.3f}"),),
    )
    cost = Table(
        f"Search time per question, median of {rounds} runs each, one at a time:",
        ("query", "p50 ms", "p99 ms"),
        tuple(
            (name, f"{percentile(ms, 50):.2f}", f"{percentile(ms, 99):.2f}")
            for name, ms in (("as asked", with_ms), ("party left out", without_ms), ("difference", extra))
        ),
    )
    target = Target(
        "a party in the question adds (p50)",
        f"<= {TARGET_MS:.0f} ms",
        f"{percentile(extra, 50):.2f} ms",
        percentile(extra, 50) <= TARGET_MS,
    )
    notes = report.render().splitlines()[1:]
    return Section("Attribution over a news collection", [quality, cost], notes, [target])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="Index of all Reuters stories.")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="Question set (JSONL).")
    parser.add_argument("--rounds", type=int, default=5, help="Timed runs per question.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the section as markdown here.")
    args = parser.parse_args(argv)
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    text = run(args.index, args.questions, args.rounds).to_markdown()
    report(text, args.out)


if __name__ == "__main__":
    main()
