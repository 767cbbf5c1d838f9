"""The machine a benchmark ran on: CPU, flags, RAM, load, library versions and the date.

Run `python -m benchmarks.machine` to print it.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from benchmarks import Table

#: Distributions whose versions decide the speed of a build or a search.
PACKAGES = (
    "torch",
    "faiss-cpu",
    "sentence-transformers",
    "transformers",
    "onnxruntime",
    "openvino",
    "numpy",
    "fastapi",
    "uvicorn",
    "httpx",
)
_FLAG = re.compile(r"^(avx512|amx|avx2|avx_vnni|fma)")


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    usable_cores: int
    flags: tuple[str, ...]
    ram_gib: float
    python: str
    packages: tuple[tuple[str, str], ...]
    load_average: tuple[float, float, float]
    date: str

    def table(self) -> Table:
        rows = [
            ("CPU", self.cpu),
            ("cores", f"{self.cores} ({self.usable_cores} usable by this process)"),
            ("SIMD/matrix flags", " ".join(self.flags) or "none of avx2/avx512/amx"),
            ("RAM", f"{self.ram_gib:.1f} GiB"),
            ("Python", self.python),
            *((name, version) for name, version in self.packages),
            ("load average (1, 5, 15 min)", ", ".join(f"{x:.2f}" for x in self.load_average)),
            ("date", self.date),
        ]
        return Table("", ("", "value"), tuple(rows), text_columns=2)


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def cpu_model() -> str:
    match = re.search(r"^model name\s*:\s*(.+)$", _cpuinfo(), flags=re.MULTILINE)
    return match.group(1).strip() if match else (platform.processor() or platform.machine())


def speed_flags() -> tuple[str, ...]:
    """The CPU flags that matter for inference: avx2, fma, avx_vnni, avx512*, amx*."""
    match = re.search(r"^flags\s*:\s*(.*)$", _cpuinfo(), flags=re.MULTILINE)
    return tuple(sorted(f for f in (match.group(1).split() if match else []) if _FLAG.match(f)))


def ram_gib() -> float:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return float("nan")
    match = re.search(r"^MemTotal:\s*(\d+) kB", text, flags=re.MULTILINE)
    return int(match.group(1)) / 1024**2 if match else float("nan")


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:  # pragma: no cover - not on Unix
        return (float("nan"),) * 3


def describe_machine() -> Machine:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count() or 1
    return Machine(
        cpu=cpu_model(),
        cores=os.cpu_count() or 1,
        usable_cores=usable,
        flags=speed_flags(),
        ram_gib=ram_gib(),
        python=platform.python_version(),
        packages=tuple((name, package_version(name)) for name in PACKAGES),
        load_average=load_average(),
        date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )


if __name__ == "__main__":
    print(describe_machine().table().to_markdown())
