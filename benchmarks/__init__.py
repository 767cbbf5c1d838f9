"""Speed benchmarks of seedsearch, run side by side with a naive baseline by `python -m benchmarks.run`.

The report primitives every benchmark returns live here: a `Section` holds markdown `Table`s, notes and the
`Target`s it checked, so the runner can print them and write BENCHMARKS.md without knowing the benchmark.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: Never fetch weights from a hub, in this process or in the processes it starts.
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def report(text: str, out: Path | None) -> None:
    """Print a benchmark's markdown and, with `--out FILE`, also write it there."""
    print(text)
    if out:
        out.write_text(text, encoding="utf-8")


def offline_env(**extra: str) -> dict[str, str]:
    """This process's environment, offline and without an API key (the API is called without one)."""
    env = {key: value for key, value in os.environ.items() if key != "SEEDSEARCH_API_KEY"}
    return {**env, **OFFLINE_ENV, **extra}


@dataclass(frozen=True)
class Table:
    """A markdown table: a caption line, a header row and rows of already formatted cells."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    text_columns: int = 1  # left-aligned; the rest are numbers, right-aligned

    def to_markdown(self) -> str:
        left = min(self.text_columns, len(self.header))
        align = ["---"] * left + ["---:"] * (len(self.header) - left)
        lines = [f"| {' | '.join(self.header)} |", f"|{'|'.join(align)}|"]
        lines += [f"| {' | '.join(row)} |" for row in self.rows]
        return (f"{self.caption}\n\n" if self.caption else "") + "\n".join(lines)


@dataclass(frozen=True)
class Target:
    """One speed target: what was asked, what was measured, and whether it was met (None: only reported)."""

    name: str
    target: str
    measured: str
    met: bool | None


@dataclass(frozen=True)
class Section:
    """What one benchmark reports."""

    title: str
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    body: str = ""  # markdown shown as is after the notes (what an external benchmark printed)

    def to_markdown(self) -> str:
        parts = [f"## {self.title}"]
        parts += [table.to_markdown() for table in self.tables]
        if self.notes:
            parts.append("\n".join(f"- {note}" for note in self.notes))
        if self.body.strip():
            parts.append(self.body.strip())
        return "\n\n".join(parts) + "\n"


def targets_table(targets: Sequence[Target]) -> Table:
    """target | asked | measured | met? ("-" for figures that are only reported)."""
    verdicts = {None: "-", True: "**yes**", False: "**no**"}
    rows = tuple((t.name, t.target, t.measured, verdicts[t.met]) for t in targets)
    return Table("", ("target", "asked", "measured", "met?"), rows, text_columns=4)


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0..100) with linear interpolation, like numpy's default."""
    if not values:
        raise ValueError("percentile of no values: time at least one request")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def human_bytes(size: float) -> str:
    """1536 -> '1.5 KiB'."""
    if size < 1024:
        return f"{size:.0f} B"
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            break
    return f"{size:.1f} {unit}"
