"""Build speed: the product's whole-process build against the naive one, stage timings, incremental rebuild.

Every build runs as its own process and is timed from launch to exit (Python start, imports and model load
included), with the peak RSS of that process from `wait4`. The product build is `seedsearch build` (the
`seedsearch.cli` Typer app with the same arguments) inside a thin shim that also writes `BuildReport.timings`,
so one run gives both the wall clock and the per-stage shares.

    python -m benchmarks.bench_build [--quick] [--out build.md]

Full run: naive and product on the first 3,000 Reuters stories, the product on all 19,043, then an incremental
rebuild after one story changed. `--quick`: 100 and 300 stories, a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import Section, Table, Target, human_bytes, offline_env, report

REUTERS = Path("/work/shared/datasets/reuters21578/reuters.jsonl")
#: The naive build's words/s over the first 3,000 stories, measured on a quiet machine of this kind.
ANCHOR_NAIVE_WORDS_PER_S = 4_750
#: Stages of `BuildReport.timings`, in pipeline order, with the names the tables use.
STAGES = (
    ("load", "load documents"),
    ("passages", "passages (split + token count)"),
    ("analysis", "analysis (entities + attribution)"),
    ("embedding", "embedding"),
    ("store", "store (SQLite + vectors.npy)"),
    ("vector_index", "vector index (FAISS)"),
)
Log = Callable[[str], None]


@dataclass(frozen=True)
class Config:
    subset: int
    full: int | None  # None: every story
    timeout_s: float

    @classmethod
    def for_run(cls, quick: bool) -> Config:
        return (
            cls(subset=100, full=300, timeout_s=600) if quick else cls(subset=3000, full=None, timeout_s=3600)
        )


@dataclass(frozen=True)
class ProcessRun:
    """One timed child process."""

    command: tuple[str, ...]
    wall_s: float
    peak_rss_bytes: int
    returncode: int
    output: str
    launched_at: float  # time.time() just before the launch

    def check(self) -> ProcessRun:
        if self.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(self.command)}` exited with {self.returncode}:\n{self.output[-3000:]}"
            )
        return self


@dataclass(frozen=True)
class ProductBuild:
    """A product build: the process, and what `build_index` reported from inside it."""

    run: ProcessRun
    report: dict[str, Any]

    @property
    def startup_s(self) -> float:
        """Python start, imports and model load: launch until `build_index` was entered."""
        return float(self.report["entered_at"]) - self.run.launched_at

    @property
    def exit_s(self) -> float:
        """From `build_index` returning to the process having exited."""
        return self.run.wall_s - (float(self.report["left_at"]) - self.run.launched_at)

    @property
    def build_s(self) -> float:
        return float(self.report["seconds"])

    def stage_rows(self) -> list[tuple[str, float]]:
        timings = self.report["timings"]
        rows = [("start-up (Python, imports, model load)", self.startup_s)]
        rows += [(label, float(timings.get(key, 0.0))) for key, label in STAGES]
        inside = sum(float(timings.get(key, 0.0)) for key, _ in STAGES)
        rows.append(("other in build (checksums, lock, manifest, fsync + publish)", self.build_s - inside))
        rows.append(("process exit", self.exit_s))
        return rows


@dataclass(frozen=True)
class Corpus:
    path: Path
    stories: int
    words: int


@dataclass(frozen=True)
class BuildResults:
    config: Config
    subset: Corpus
    full: Corpus
    naive: ProcessRun
    naive_summary: dict[str, int]
    product_subset: ProductBuild
    product_full: ProductBuild
    incremental: ProductBuild
    full_build_bytes: int
    full_index_dir_bytes: int
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- processes


def run_timed(command: Sequence[str], *, timeout_s: float, env: dict[str, str] | None = None) -> ProcessRun:
    """Run `command`, wall-clock it from launch to exit, and read its own peak RSS from `wait4`."""
    with tempfile.TemporaryFile() as output:
        launched_at = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(command), stdout=output, stderr=subprocess.STDOUT, env=env or offline_env()
        )
        timer = threading.Timer(timeout_s, lambda: os.kill(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    return ProcessRun(tuple(command), wall, usage.ru_maxrss * 1024, proc.returncode, text, launched_at)


def product_build(
    sources: Sequence[Path], index_dir: Path, *, full: bool, timeout_s: float, extra: Sequence[str] = ()
) -> ProductBuild:
    """`seedsearch build --source ... --index ... [--full] --quiet` as its own timed process."""
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        command = [
            sys.executable,
            "-m",
            "benchmarks.bench_build",
            "--child-report",
            str(report_path),
            "build",
        ]
        for source in sources:
            command += ["--source", str(source)]
        command += ["--index", str(index_dir), "--quiet", *(["--full"] if full else []), *extra]
        run = run_timed(command, timeout_s=timeout_s).check()
        return ProductBuild(run, json.loads(report_path.read_text()))


def naive_build(source: Path, index_dir: Path, *, timeout_s: float) -> tuple[ProcessRun, dict[str, int]]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.naive",
        "build",
        "--source",
        str(source),
        "--index",
        str(index_dir),
    ]
    run = run_timed(command, timeout_s=timeout_s).check()
    return run, json.loads(run.output.strip().splitlines()[-1])


def _child(report_path: Path, cli_args: list[str]) -> None:
    """Run the `seedsearch` CLI in this process, writing what `build_index` reported to `report_path`."""
    import indexer.build

    original = indexer.build.build_index

    def recording(*args: Any, **kwargs: Any) -> Any:
        entered_at = time.time()
        report = original(*args, **kwargs)
        embedder = args[2] if len(args) > 2 else kwargs["embedder"]
        fields = (
            "documents",
            "passages",
            "embedded_documents",
            "embedded_passages",
            "reused_documents",
            "removed_documents",
            "seconds",
            "words",
            "up_to_date",
            "timings",
        )
        record = {name: getattr(report, name) for name in fields}
        record |= {
            "entered_at": entered_at,
            "left_at": time.time(),
            "build_dir": str(report.build_dir),
            "backend": embedder.backend,
            "query_backend": getattr(embedder, "query_backend", embedder.backend),
        }
        if report.build_dir is not None:
            manifest = json.loads((Path(report.build_dir) / "manifest.json").read_text(encoding="utf-8"))
            record["vector_index"] = manifest.get("vector_index", {})
        report_path.write_text(json.dumps(record))
        return report

    indexer.build.build_index = recording  # the CLI imports it inside the command, so it gets this one
    from seedsearch.cli import app

    app(args=cli_args, prog_name="seedsearch")


# --------------------------------------------------------------------------- data


def write_stories(source: Path, target: Path, limit: int | None, change: int | None = None) -> Corpus:
    """Copy the first `limit` JSONL records of `source` to `target`; change the text of record `change`."""
    stories = words = 0
    with source.open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as out:
        for line in src:
            if limit is not None and stories >= limit:
                break
            if not line.strip():
                continue
            record = json.loads(line)
            if stories == change:
                record["text"] += "\n    The company later said the figures had been revised upwards.\n"
            stories += 1
            words += len(record["text"].split())
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return Corpus(target, stories, words)


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


# --------------------------------------------------------------------------- the benchmark


def measure(config: Config, workdir: Path, log: Log = print) -> BuildResults:
    if not REUTERS.exists():
        raise FileNotFoundError(f"{REUTERS} is missing: the build benchmark needs the Reuters JSONL")
    subset = write_stories(REUTERS, workdir / "subset.jsonl", config.subset)
    full = write_stories(REUTERS, workdir / "full.jsonl", config.full)
    warm = write_stories(REUTERS, workdir / "warm.jsonl", 20)
    timeout = config.timeout_s

    log("build: warm-up (page cache, bytecode, cached ONNX export), not timed")
    product_build([warm.path], workdir / "warm-index", full=True, timeout_s=timeout)
    naive_build(warm.path, workdir / "warm-naive", timeout_s=timeout)

    log(f"build: naive, {subset.stories} stories")
    naive, naive_summary = naive_build(subset.path, workdir / "naive", timeout_s=timeout)
    log(f"build: product, {subset.stories} stories")
    product_subset = product_build([subset.path], workdir / "index-subset", full=True, timeout_s=timeout)
    log(f"build: product, {full.stories} stories")
    index_dir = workdir / "index-full"
    product_full = product_build([full.path], index_dir, full=True, timeout_s=timeout)
    full_build_bytes = dir_bytes(Path(product_full.report["build_dir"]))

    changed = write_stories(REUTERS, workdir / "changed.jsonl", config.full, change=full.stories // 2)
    log(f"build: incremental rebuild, 1 of {changed.stories} stories changed")
    incremental = product_build([changed.path], index_dir, full=False, timeout_s=timeout)
    if incremental.report["embedded_documents"] != 1:
        raise RuntimeError(
            f"the incremental rebuild embedded {incremental.report['embedded_documents']} documents, not 1: "
            "the benchmark's changed copy or the build's change detection is wrong"
        )
    return BuildResults(
        config,
        subset,
        full,
        naive,
        naive_summary,
        product_subset,
        product_full,
        incremental,
        full_build_bytes,
        dir_bytes(index_dir),
    )


def _index_text(report: dict[str, Any]) -> str:
    info = report.get("vector_index") or {}
    if not info:
        return "not recorded"
    recall = info.get("recall_at_10")
    params = ", ".join(f"{k}={v}" for k, v in (info.get("search_params") or {}).items())
    return (
        f"{info.get('kind')} (`{info.get('factory')}`"
        + (f", recall@10 {recall:.3f}" if isinstance(recall, float) else "")
        + (f", {params}" if params else "")
        + ")"
    )


def _rate(amount: float, seconds: float) -> str:
    return f"{amount / seconds:,.0f}" if seconds > 0 else "-"


def section(r: BuildResults) -> Section:
    naive_wps = r.subset.words / r.naive.wall_s
    subset_wps = r.subset.words / r.product_subset.run.wall_s
    full_wps = r.full.words / r.product_full.run.wall_s
    speedup = subset_wps / naive_wps
    full_passages = int(r.product_full.report["passages"])
    bytes_per_passage = r.full_build_bytes / full_passages

    def row(name: str, corpus: Corpus, run: ProcessRun, passages: int, disk: str) -> tuple[str, ...]:
        wps = corpus.words / run.wall_s
        return (
            name,
            f"{corpus.stories:,}",
            f"{corpus.words:,}",
            f"{passages:,}",
            f"{run.wall_s:.1f}",
            f"{wps:,.0f}",
            _rate(passages, run.wall_s),
            f"{wps / naive_wps:.2f}x",
            human_bytes(run.peak_rss_bytes),
            disk,
        )

    sub_passages = int(r.product_subset.report["passages"])
    sub_bytes = dir_bytes(Path(r.product_subset.report["build_dir"]))
    backend = f"{r.product_full.report['backend']} (queries: {r.product_full.report['query_backend']})"
    runs = Table(
        "Whole-process builds (launch to exit, model load included), same machine, one after the other:",
        (
            "build",
            "stories",
            "words",
            "passages",
            "wall s",
            "words/s",
            "passages/s",
            "vs naive",
            "peak RSS",
            "bytes/passage on disk",
        ),
        (
            row(
                "naive (ST fp32 defaults, blank-line chunks <=200 words, IndexFlatIP)",
                r.subset,
                r.naive,
                r.naive_summary["chunks"],
                "-",
            ),
            row(
                f"seedsearch build --full [{backend}]",
                r.subset,
                r.product_subset.run,
                sub_passages,
                f"{sub_bytes / sub_passages:,.0f}",
            ),
            row(
                f"seedsearch build --full [{backend}]",
                r.full,
                r.product_full.run,
                full_passages,
                f"{bytes_per_passage:,.0f}",
            ),
        ),
    )

    builds = (
        ("first " + f"{r.subset.stories:,}", r.product_subset),
        (f"all {r.full.stories:,}", r.product_full),
        ("incremental (1 changed)", r.incremental),
    )
    stage_names = [name for name, _ in r.product_full.stage_rows()]
    stage_rows = []
    for index, name in enumerate(stage_names):
        cells = [name]
        for _, build in builds:
            seconds = build.stage_rows()[index][1]
            cells.append(f"{seconds:.2f} s ({100 * seconds / build.run.wall_s:.0f}%)")
        stage_rows.append(tuple(cells))
    stage_rows.append(("**whole process**", *(f"{b.run.wall_s:.2f} s" for _, b in builds)))
    stages = Table(
        "Where the product's build time goes (`BuildReport.timings`, share of the whole process):",
        ("stage", *(f"{label} stories" if "incremental" not in label else label for label, _ in builds)),
        tuple(stage_rows),
    )

    full_s, inc_s = r.product_full.run.wall_s, r.incremental.run.wall_s
    incremental = Table(
        f"Incremental rebuild of the {r.full.stories:,}-story index after one story changed (no --full):",
        ("", "full build", "incremental", "incremental / full"),
        (
            ("whole process, s", f"{full_s:.2f}", f"{inc_s:.2f}", f"{100 * inc_s / full_s:.1f}%"),
            (
                "inside build_index, s",
                f"{r.product_full.build_s:.2f}",
                f"{r.incremental.build_s:.2f}",
                f"{100 * r.incremental.build_s / r.product_full.build_s:.1f}%",
            ),
            (
                "documents embedded",
                f"{r.product_full.report['embedded_documents']:,}",
                f"{r.incremental.report['embedded_documents']:,}",
                "",
            ),
            (
                "peak RSS",
                human_bytes(r.product_full.run.peak_rss_bytes),
                human_bytes(r.incremental.run.peak_rss_bytes),
                "",
            ),
        ),
    )

    timings = r.product_full.report["timings"]
    analysis_share = float(timings.get("analysis", 0.0)) / full_s
    subset_note = (
        f"Naive and product builds read the same file: the first {r.subset.stories:,} stories of {REUTERS} "
        f"({r.subset.words:,} words, counted as `len(text.split())`); the product also indexed "
        f"{'all' if r.config.full is None else 'the first'} {r.full.stories:,} stories "
        f"({r.full.words:,} words)."
    )
    notes = [
        subset_note,
        "words/s = story words / whole-process wall clock; passages/s counts each build's own passages "
        "(naive chunks: up to 200 words; the product's passages: up to 128 tokens).",
        "Bytes per passage = size of the published build folder (SQLite with texts, entities and statements; "
        "vectors.npy; FAISS file; manifest) / passages; the index folder also keeps the previous build "
        f"({human_bytes(r.full_index_dir_bytes)} in all after the incremental rebuild).",
        "Peak RSS is the build process's own `ru_maxrss` from `wait4`.",
        f"Vector index of the full build: {_index_text(r.product_full.report)}; after the incremental "
        f"rebuild: {_index_text(r.incremental.report)}.",
        f"The product indexed {r.product_full.report['documents']:,} of the {r.full.stories:,} stories (it "
        "skips empty and duplicate ones); words/s counts every story's words for both builds.",
        f"Entities + attribution took {100 * analysis_share:.1f}% of the full build's wall clock "
        f"({float(timings.get('analysis', 0.0)):.1f} s).",
        "An untimed warm-up build (20 stories, naive and product) ran first, so no run pays for a cold page "
        "cache or a first-time ONNX export.",
    ]
    targets = [
        Target(
            "build words/s vs naive (whole process, same data)",
            ">= 3x (goal 5x)",
            f"{speedup:.2f}x ({subset_wps:,.0f} vs {naive_wps:,.0f} words/s, {r.subset.stories:,} stories); "
            f"all {r.full.stories:,} stories: {full_wps:,.0f} words/s = {full_wps / naive_wps:.2f}x; vs the "
            f"quiet-machine naive anchor of {ANCHOR_NAIVE_WORDS_PER_S:,} words/s: "
            f"{subset_wps / ANCHOR_NAIVE_WORDS_PER_S:.2f}x",
            speedup >= 3,
        ),
        Target(
            "incremental rebuild after 1 changed story",
            "<= 5% of the full build",
            f"{100 * inc_s / full_s:.1f}% ({inc_s:.1f} s vs {full_s:.1f} s, whole process); "
            f"inside build_index {100 * r.incremental.build_s / r.product_full.build_s:.1f}%",
            inc_s / full_s <= 0.05,
        ),
        Target("peak RSS of the full build", "report", human_bytes(r.product_full.run.peak_rss_bytes), None),
        Target(
            "bytes per passage on disk",
            "report",
            f"{bytes_per_passage:,.0f} B ({full_passages:,} passages)",
            None,
        ),
        Target("entities + attribution share of build time", "report", f"{100 * analysis_share:.1f}%", None),
    ]
    return Section("Build", [runs, stages, incremental], notes, targets)


def run(quick: bool = False, log: Log = print, keep: Path | None = None) -> Section:
    """Measure and return the build section; `keep` keeps the indexes and data in that folder."""
    config = Config.for_run(quick)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return section(measure(config, keep, log))
    workdir = Path(tempfile.mkdtemp(prefix="seedsearch-bench-build-"))
    try:
        return section(measure(config, workdir, log))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child-report"]:
        _child(Path(argv[1]), argv[2:])
        return
    parser = argparse.ArgumentParser(description="Build speed against the naive baseline.")
    parser.add_argument("--quick", action="store_true", help="Small subsets (100 and 300 stories).")
    parser.add_argument("--out", type=Path, default=None, help="Also write the section as markdown here.")
    parser.add_argument("--keep", type=Path, default=None, help="Keep the data and indexes in this folder.")
    args = parser.parse_args(argv)
    result = run(args.quick, keep=args.keep)
    text = result.to_markdown()
    report(text, args.out)


if __name__ == "__main__":
    main()
