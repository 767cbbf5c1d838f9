"""Seed-index query latency of this tree against an earlier commit, measured in the same run (issue 16).

The earlier commit (`--ref`, default `HEAD~1`) is checked out with `git worktree add --detach` into a
temporary folder; each tree builds its own seed index with its own code, then child processes (one per tree
and round, alternating, so drifting machine load hits both alike) time in-process `SearchEngine.search(q, k=5)`
in hybrid mode over the seed questions of `benchmarks.bench_query`. The child is a fixed script run with each
tree first on `sys.path`, using only APIs both trees have.

    python -m benchmarks.bench_regression [--ref main] [--rounds 4] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import Section, Table, Target, offline_env, percentile, report
from benchmarks.bench_query import QUESTIONS, SEEDS

REPO = Path(__file__).resolve().parent.parent
ROUNDS = 4
REPEATS = 5
#: "No slower" allows this much for noise: two runs of one tree on the shared 2-core machine differ by ~3%.
TOLERANCE = 1.05
Log = Callable[[str], None]

CHILD = """
import json, sys, time
from pathlib import Path
from indexer.embedding import load_embedder
from indexer.local_store import LocalStore
from search_api.engine import SearchEngine
index, questions, repeats = Path(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
engine = SearchEngine(LocalStore(index), load_embedder())
for q in questions:
    engine.search(q, k=5)
ms = []
for _ in range(repeats):
    for q in questions:
        tick = time.perf_counter()
        engine.search(q, k=5)
        ms.append((time.perf_counter() - tick) * 1000)
print("MS " + json.dumps(ms))
"""


def _env(tree: Path) -> dict[str, str]:
    env = offline_env()
    env["PYTHONPATH"] = str(tree)
    return env


def _build(tree: Path, index: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "seedsearch.cli", "build", "--source", str(SEEDS), "--index", str(index)],
        cwd=tree, env=_env(tree), check=True, capture_output=True, text=True, timeout=900,
    )


def _time(tree: Path, index: Path, repeats: int) -> list[float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(index), json.dumps(list(QUESTIONS)), str(repeats)],
        cwd=tree, env=_env(tree), check=True, capture_output=True, text=True, timeout=900,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("MS "))
    return [float(x) for x in json.loads(line[3:])]


def measure(ref: str, rounds: int, log: Log) -> tuple[str, dict[str, list[float]]]:
    """(the ref's commit, search ms per tree: "this tree" and the ref)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    work = Path(tempfile.mkdtemp(prefix="seedsearch-bench-regression-"))
    baseline = work / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", str(baseline), ref], cwd=REPO, check=True,
                   capture_output=True)
    try:
        trees = {"this tree": REPO, f"{ref} ({commit})": baseline}
        indexes = {name: work / f"index-{i}" for i, name in enumerate(trees)}
        for name, tree in trees.items():
            log(f"regression: building the seed index with {name}")
            _build(tree, indexes[name])
        found: dict[str, list[float]] = {name: [] for name in trees}
        for round_ in range(rounds):
            log(f"regression: round {round_ + 1} of {rounds}")
            order = list(trees.items()) if round_ % 2 == 0 else list(reversed(trees.items()))
            for name, tree in order:
                found[name] += _time(tree, indexes[name], REPEATS)
        return commit, found
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=REPO, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def run(quick: bool = False, log: Log = print, ref: str = "HEAD~1") -> Section:
    rounds = 2 if quick else ROUNDS
    commit, found = measure(ref, rounds, log)
    names = list(found)
    table = Table(
        f"Seed index, in-process hybrid `SearchEngine.search(q, k=5)`, {len(QUESTIONS)} questions x {REPEATS} x "
        f"{rounds} rounds per tree, alternating:",
        ("tree", "searches", "p50 ms", "p90 ms", "p99 ms"),
        tuple((name, str(len(ms)), *(f"{percentile(ms, q):.2f}" for q in (50, 90, 99))) for name, ms in found.items()),
    )
    now, before = percentile(found[names[0]], 50), percentile(found[names[1]], 50)
    return Section(
        "Seed index against an earlier commit (same run)", [table],
        [f"`python -m benchmarks.bench_regression --ref {ref}`; 'no slower' allows {100 * (TOLERANCE - 1):.0f}% "
         "for noise."],
        [Target(f"seed index p50 vs {ref} ({commit}), same run", f"<= {TOLERANCE:.2f}x",
                f"{now:.2f} ms vs {before:.2f} ms ({now / before:.2f}x)", now <= TOLERANCE * before)],
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Seed-index query latency against an earlier commit.")
    parser.add_argument("--ref", default="HEAD~1", help="The commit to compare with (default HEAD~1).")
    parser.add_argument("--quick", action="store_true", help="Two rounds instead of four.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the section as markdown here.")
    args = parser.parse_args(argv)
    os.environ.update(offline_env())
    text = run(args.quick, ref=args.ref).to_markdown()
    report(text, args.out)


if __name__ == "__main__":
    main()
