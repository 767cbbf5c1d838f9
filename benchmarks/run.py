"""Run the speed benchmarks side by side on this machine and write BENCHMARKS.md.

    python -m benchmarks.run [--quick] [--only build,query,collection,analysis,regression,encoders,ann,load,memory,
        hostile,formats,synthetic]
        [--out BENCHMARKS.md] [--reuters-index DIR] [--synthetic-index DIR]
        [--baseline-ref REF]

`regression` times the seed index against an earlier commit (`--baseline-ref`, default HEAD~1) in the same
run. `synthetic` (opt-in: `--only synthetic`) generates a 1M-passage index from the Reuters index into
`--synthetic-index` once (see benchmarks/bench_synthetic.py) and measures query latency on it.

`collection` measures a prebuilt index of the whole Reuters collection, given by `--reuters-index` or
$SEEDSEARCH_BENCH_REUTERS_INDEX (it is never rebuilt here); without one its section says how to build it.

`build` and `query` run in this process (their builds and server are child processes); `encoders`, `ann` and
`load` are other engineers' scripts, run as `python -m benchmarks.bench_<name> [--quick] --out FILE` when
present (a missing one, or one without `--quick` in a quick run, is skipped with a note). The report is
rewritten after every benchmark, so a long run that fails late keeps what it measured.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks import OFFLINE_ENV, Section, Target, offline_env, targets_table
from benchmarks.machine import Machine, describe_machine, load_average

HERE = Path(__file__).resolve().parent
OWN = ("build", "query", "collection", "analysis", "regression")
EXTERNAL = {
    "encoders": "bench_encoders", "ann": "bench_ann", "load": "bench_load", "memory": "bench_memory",
    "hostile": "bench_hostile", "formats": "bench_formats",
}
#: Run only when asked by `--only`: `synthetic` generates a 1M-passage index once (~30-40 minutes, ~6 GiB).
OPT_IN = ("synthetic",)
DEFAULT = (*OWN, *EXTERNAL)
ALL = (*DEFAULT, *OPT_IN)


@dataclass(frozen=True)
class External:
    """How one external benchmark script is run and what it printed."""

    name: str
    module: str

    @property
    def path(self) -> Path:
        return HERE / f"{self.module}.py"

    def flags(self) -> set[str]:
        """The options its `--help` lists, of those the runner passes."""
        done = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{self.module}", "--help"],
            capture_output=True,
            text=True,
            env=offline_env(),
            timeout=120,
            check=False,
        )
        return {flag for flag in ("--quick", "--out") if flag in done.stdout}

    def run(self, quick: bool, timeout_s: float) -> Section:
        title = f"{self.name} (`benchmarks/{self.module}.py`, another engineer's)"
        if not self.path.exists():
            return Section(title, notes=[f"skipped: benchmarks/{self.module}.py does not exist yet"])
        flags = self.flags()
        if quick and "--quick" not in flags:
            return Section(
                title,
                notes=[
                    f"skipped in --quick: `python -m benchmarks.{self.module}` has no "
                    "--quick option; run it on its own or without --quick"
                ],
            )
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "section.md"
            command = [sys.executable, "-m", f"benchmarks.{self.module}"]
            command += ["--quick"] if quick else []
            command += ["--out", str(out)] if "--out" in flags else []
            start = time.perf_counter()
            try:
                done = subprocess.run(
                    command, capture_output=True, text=True, env=offline_env(), timeout=timeout_s, check=False
                )
            except subprocess.TimeoutExpired:
                return Section(title, notes=[f"stopped after {timeout_s:.0f} s: `{shlex.join(command)}`"])
            took = time.perf_counter() - start
            shown = shlex.join(["python", *command[1:3], *(["--quick"] if quick else [])])
            if done.returncode != 0:
                tail = (done.stdout + done.stderr)[-1500:]
                return Section(
                    title,
                    notes=[f"`{shown}` failed with exit code {done.returncode}:"],
                    body=f"```\n{tail}\n```",
                )
            body = out.read_text(encoding="utf-8") if out.exists() else done.stdout
        return Section(
            title,
            notes=[f"`{shown}` took {took:.0f} s and printed what follows."],
            targets=[replace(t, name=f"{self.name}: {t.name}") for t in parse_targets(body)],
            body=demote_headings(body),
        )


_TARGET_HEADER = ("target", "asked", "measured", "met?")


def parse_targets(markdown: str) -> list[Target]:
    """The rows of every `| target | asked | measured | met? |` table in `markdown`."""
    found: list[Target] = []
    in_table = False
    for line in markdown.splitlines():
        cells = tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        if not line.strip().startswith("|"):
            in_table = False
        elif cells == _TARGET_HEADER:
            in_table = True
        elif in_table and len(cells) == 4 and not set(cells[0]) <= set("-: "):
            verdict = cells[3].strip("* ").lower()
            found.append(Target(*cells[:3], True if verdict == "yes" else False if verdict == "no" else None))
    return found


def demote_headings(markdown: str) -> str:
    """Push every markdown heading one level down, so an embedded report nests under its section."""
    return "\n".join(f"#{line}" if line.startswith("#") else line for line in markdown.splitlines())


def _run_own(name: str, quick: bool, log: Callable[[str], None]) -> Section:
    if name == "build":
        from benchmarks import bench_build

        return bench_build.run(quick, log)
    if name == "analysis":
        from benchmarks import bench_analysis

        return bench_analysis.run(quick, log)
    if name == "collection":
        from benchmarks import bench_collection

        return bench_collection.run(quick, log)
    if name == "regression":
        from benchmarks import bench_regression

        return bench_regression.run(quick, log, ref=os.environ.get("SEEDSEARCH_BENCH_BASELINE_REF", "HEAD~1"))
    if name == "synthetic":
        from benchmarks import bench_synthetic

        return bench_synthetic.run(quick, log)
    from benchmarks import bench_query

    return bench_query.run(quick, log)


def render(
    machine: Machine,
    sections: Sequence[Section],
    command: str,
    started: str,
    loads: Sequence[tuple[float, ...]],
    seconds: float,
    pending: Sequence[str],
) -> str:
    targets: list[Target] = [t for s in sections for t in s.targets]
    load_text = "; ".join(
        f"{label} {', '.join(f'{x:.2f}' for x in load)}"
        for label, load in zip(("start", "end"), loads, strict=False)
    )
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{command}` (started {started}, {seconds / 60:.1f} min). Load average (1, 5, 15 min): "
        f"{load_text}. The machine is shared, so a load above the core count means other work competed.",
        "",
    ]
    if pending:
        lines += [f"**Incomplete:** still to run: {', '.join(pending)}.", ""]
    lines += ["## Machine", "", machine.table().to_markdown(), ""]
    if targets:
        lines += ["## Targets", "", targets_table(targets).to_markdown(), ""]
    return "\n".join(lines) + "\n" + "\n".join(s.to_markdown() for s in sections)


def wait_for_quiet(threshold: float, max_minutes: float, log: Callable[[str], None]) -> None:
    """Poll the 1-minute load average until it drops below `threshold` or `max_minutes` pass."""
    deadline = time.monotonic() + 60 * max_minutes
    while load_average()[0] >= threshold and time.monotonic() < deadline:
        log(f"waiting for a quiet machine: load {load_average()[0]:.2f} >= {threshold}")
        time.sleep(30)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the speed benchmarks and write BENCHMARKS.md.")
    parser.add_argument(
        "--quick", action="store_true", help="Small subsets: a few minutes, for a smoke test."
    )
    parser.add_argument(
        "--only", default=",".join(DEFAULT), help=f"Comma-separated subset of {','.join(ALL)} (default: all but "
        f"{','.join(OPT_IN)})."
    )
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"), help="Report file (markdown).")
    parser.add_argument(
        "--wait-for-quiet",
        type=float,
        default=0.0,
        metavar="MINUTES",
        help="First wait up to MINUTES for the 1-minute load average to drop below --quiet-load.",
    )
    parser.add_argument("--quiet-load", type=float, default=1.5, help="Load average that counts as quiet.")
    parser.add_argument(
        "--reuters-index", type=Path, default=None, help="A prebuilt index of the Reuters collection, for `collection`."
    )
    parser.add_argument(
        "--synthetic-index", type=Path, default=None,
        help="Where `synthetic` keeps its generated 1M-passage index (generated from --reuters-index when absent).",
    )
    parser.add_argument(
        "--baseline-ref", default=None, help="The commit `regression` compares the seed index with (default HEAD~1)."
    )
    args = parser.parse_args(argv)
    if args.baseline_ref:
        os.environ["SEEDSEARCH_BENCH_BASELINE_REF"] = args.baseline_ref
    if args.reuters_index is not None:
        os.environ["SEEDSEARCH_BENCH_REUTERS_INDEX"] = str(args.reuters_index.resolve())
    if args.synthetic_index is not None:
        os.environ["SEEDSEARCH_BENCH_SYNTHETIC_INDEX"] = str(args.synthetic_index.resolve())
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(ALL))
    if unknown:
        parser.error(f"--only: unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    os.environ.update(OFFLINE_ENV)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    if args.wait_for_quiet > 0:
        wait_for_quiet(args.quiet_load, args.wait_for_quiet, log)
    command = shlex.join(["python", "-m", "benchmarks.run", *(sys.argv[1:] if argv is None else argv)])
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    machine = describe_machine()
    start_load = machine.load_average
    clock = time.perf_counter()
    sections: list[Section] = []
    for position, name in enumerate(chosen):
        log(f"benchmark {name}")
        load_before = load_average()[0]
        if name in OWN or name in OPT_IN:
            try:
                section = _run_own(name, args.quick, log)
            except Exception as err:  # one broken benchmark must not lose the others' results
                section = Section(
                    name,
                    notes=[f"failed: {type(err).__name__}: {err}"],
                    targets=[
                        Target(
                            f"{name} benchmark",
                            "its targets",
                            "not measured: it failed (see its section)",
                            False,
                        )
                    ],
                )
        else:
            section = External(name, EXTERNAL[name]).run(args.quick, 900 if args.quick else 7200)
        section = replace(
            section,
            notes=[
                *section.notes,
                f"1-minute load average {load_before:.2f} when this benchmark started, "
                f"{load_average()[0]:.2f} when it ended (its own processes included).",
            ],
        )
        print(section.to_markdown(), flush=True)
        sections.append(section)
        pending = chosen[position + 1 :]
        loads = [start_load] if pending else [start_load, load_average()]
        text = render(machine, sections, command, started, loads, time.perf_counter() - clock, pending)
        args.out.write_text(text, encoding="utf-8")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
