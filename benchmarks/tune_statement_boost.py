"""Choose the statement boost's weight and relevance gate on a development question set.

Loads the index once, keeps each question's fused candidates, then re-ranks them under each setting of
(weight, RELEVANCE_FLOOR, RELEVANCE_RAMP) and prints hit@1, hit@3 and MRR@5. Choose on development sets only
(the Reuters attribution set on the full Reuters index, and the seed questions), never on held-out questions.

    python -m benchmarks.tune_statement_boost --index IDX --questions ../shared/eval/reuters_attribution_dev.jsonl
    python -m benchmarks.tune_statement_boost ... --show 1.0 0.6 0.1   # the misses of one setting, with speakers
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

WEIGHTS = (0.5, 1.0)
FLOORS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
RAMPS = (0.0, 0.1, 0.3)


def load(index: Path, questions: Path) -> tuple[Any, list[tuple[dict[str, Any], Any, dict[int, float], Any]]]:
    """The engine and, per question, (item, candidates, fused shortlist scores, passages)."""
    from indexer.embedding import load_embedder
    from indexer.local_store import LocalStore
    from indexer.settings import EncoderSettings
    from search_api.contract import Mode
    from search_api.engine import SearchEngine
    from search_api.fusion import SearchOptions, fuse
    from search_api.settings import SearchSettings

    items = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    settings = EncoderSettings(index=index)
    embedder = load_embedder(
        settings.model, backend=settings.backend, device=settings.device, cache_dir=settings.cache_dir
    )
    engine = SearchEngine(LocalStore(index), embedder, SearchOptions.from_settings(SearchSettings()))
    vectors = engine.embedder.encode_queries([item["question"] for item in items])
    pool = engine.options.candidates
    cached = []
    for item, vector in zip(items, vectors, strict=True):
        found = engine.candidates(item["question"], vector, Mode.HYBRID, pool)
        fused = fuse(found, engine.options, Mode.HYBRID)
        shortlist = sorted(fused, key=fused.__getitem__, reverse=True)[:pool]
        cached.append((item, found, {pid: fused[pid] for pid in shortlist}, engine.index.passages(shortlist)))
    return engine, cached


def score(engine: Any, cached: list[Any], weight: float, floor: float, ramp: float, show: bool = False) -> str:
    """hit@1, hit@3 and MRR@5 of one setting; with ``show``, each miss and the speakers of its top passages."""
    from search_api.boosts import boost_statements
    from search_api.evaluation import answers

    hit1 = hit3 = mrr = 0.0
    for item, found, fused, passages in cached:
        boosted = boost_statements(found.intent, fused, passages, weight, engine.resolver, floor, ramp)
        ranked = sorted(boosted, key=lambda pid: (-boosted[pid].score, pid))[:5]
        rank = next((r for r, pid in enumerate(ranked, 1) if answers(passages[pid].text, item["gold"])), None)
        hit1 += rank == 1
        hit3 += rank is not None and rank <= 3
        mrr += 1 / rank if rank else 0.0
        if show and rank != 1:
            print(f"{item.get('id', '')} rank={rank} {item['question']}")
            for r, pid in enumerate(ranked[:3], 1):
                reason = boosted[pid].reason
                why = reason.path if reason is not None else None
                print(f"   {r}. {boosted[pid].score:.3f} (fused {fused[pid]:.3f}) {passages[pid].text[:80]!r} {why}")
    n = len(cached)
    return f"hit@1 {hit1 / n:.3f}  hit@3 {hit3 / n:.3f}  MRR@5 {mrr / n:.3f}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--show", type=float, nargs=3, metavar=("WEIGHT", "FLOOR", "RAMP"), default=None)
    args = parser.parse_args(argv)
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    engine, cached = load(args.index, args.questions)
    if args.show:
        weight, floor, ramp = args.show
        print(score(engine, cached, weight, floor, ramp, show=True))
        return
    from search_api import boosts, question

    print("no boost          ", score(engine, cached, 0.0, 0.0, 0.0))
    print("ungated (weight 1)", score(engine, cached, 1.0, 0.0, 0.0))
    implied = question.IMPLIED_PARTY
    in_use = (engine.options.statement_weight, boosts.RELEVANCE_FLOOR, boosts.RELEVANCE_RAMP)
    for value in (0.0, 0.5, implied, 1.0):  # what the story's implied country is worth (0: ignored)
        question.IMPLIED_PARTY = value
        print(f"implied party {value}{' (in use)' if value == implied else ''}", score(engine, cached, *in_use))
    question.IMPLIED_PARTY = implied
    for weight in WEIGHTS:
        for floor in FLOORS:
            for ramp in RAMPS:
                print(f"w {weight} floor {floor} ramp {ramp}", score(engine, cached, weight, floor, ramp))


if __name__ == "__main__":
    main()
