"""Extraction of HTML, PDF and Word files: throughput per format, the cost in a whole build, peak memory.

Files are made from Reuters stories: two-column PDFs of ten pages with running headers, one news page with
boilerplate per story, one Word file per story. The same folder is then built twice with the bundled model, once
as those files and once as ``.txt`` files holding exactly the extracted text, so the difference is what
extraction adds to a build. Peak memory (the kernel's VmHWM) is measured per hostile or huge file, each in a
process of its own.

    python -m benchmarks.bench_formats [--quick] [--out formats.md]
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import Section, Table, Target, human_bytes, offline_env, report
from indexer import formats
from tests.indexer.formats.fixtures import PdfPage, docx_file, fit_column, html_page, two_column_pdf

REUTERS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "reuters21578" / "reuters.jsonl"
TARGET_EXTRA = 0.20
PAGES_PER_PDF = 10
Log = Callable[[str], None]


def _stories(count: int) -> list[tuple[str, list[str]]]:
    stories = []
    with REUTERS.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            paragraphs = [" ".join(p.split()) for p in record["text"].split("\n    ") if p.strip()]
            if record.get("title") and len(paragraphs) >= 3:
                stories.append((record["title"], paragraphs))
            if len(stories) == count:
                break
    return stories


def make_files(folder: Path, stories: Sequence[tuple[str, list[str]]]) -> None:
    """A third of the stories as PDFs (two stories a page), a third as HTML pages, a third as Word files."""
    third = len(stories) // 3
    pdf_stories, html_stories, word_stories = stories[:third], stories[third : 2 * third], stories[2 * third :]
    pages = [
        PdfPage(fit_column(a[1]), fit_column(b[1])) for a, b in zip(pdf_stories[::2], pdf_stories[1::2], strict=False)
    ]
    for number, start in enumerate(range(0, len(pages), PAGES_PER_PDF)):
        (folder / f"report-{number:03d}.pdf").write_bytes(two_column_pdf(pages[start : start + PAGES_PER_PDF]))
    for number, (title, paragraphs) in enumerate(html_stories):
        (folder / f"page-{number:03d}.html").write_text(html_page(title, paragraphs), encoding="utf-8")
    for number, (title, paragraphs) in enumerate(word_stories):
        (folder / f"memo-{number:03d}.docx").write_bytes(docx_file(title, [("Story", paragraphs)]))


def extraction_rows(folder: Path, txt_folder: Path) -> tuple[list[tuple[str, ...]], float]:
    """Time extraction file by file; write each file's extracted text as ``.txt``; rows per format."""
    per_kind: dict[str, list[float]] = {}
    started = time.perf_counter()
    for module in ("html", "pdf", "docx"):  # imported once per build, when the first such file is met
        importlib.import_module(f"indexer.formats.{module}")
    imports = time.perf_counter() - started
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        tick = time.perf_counter()
        result = formats.extract(path.suffix, data)
        seconds = time.perf_counter() - tick
        if isinstance(result, str):
            raise RuntimeError(f"{path.name} was skipped: {result}")
        (txt_folder / f"{path.name}.txt").write_text(result.text, encoding="utf-8")
        pages = float(result.metadata.get("pages", 0))
        totals = per_kind.setdefault(path.suffix, [0.0, 0.0, 0.0, 0.0])
        for index, value in enumerate((1.0, seconds, float(len(data)), pages)):
            totals[index] += value
    rows: list[tuple[str, ...]] = []
    for suffix, (files, seconds, size, pages) in sorted(per_kind.items()):
        rows.append(
            (
                suffix,
                f"{files:.0f}",
                human_bytes(size),
                f"{seconds:.2f}",
                f"{files / seconds:.1f}",
                f"{pages / seconds:.0f}" if pages else "-",
                f"{seconds / files * 1000:.1f}",
            )
        )
    rows.append(("(importing the three extractors, once)", "", "", f"{imports:.2f}", "", "", ""))
    return rows, time.perf_counter() - started


def build_seconds(sources: Sequence[Path], workdir: Path, rounds: int, log: Log) -> dict[Path, tuple[float, int]]:
    """Full in-process builds with the bundled model, taking turns; the fastest of ``rounds`` per source."""
    from indexer.build import build_index
    from indexer.embedding import load_embedder

    embedder = load_embedder()
    embedder.encode_passages(["warm up the model once"] * 8)
    best: dict[Path, tuple[float, int]] = {}
    for round_number in range(rounds):
        for source in sources:
            index_dir = workdir / f"index-{source.name}-{round_number}"
            started = time.perf_counter()
            report = build_index([source], index_dir, embedder, full=True)
            seconds = time.perf_counter() - started
            log(f"formats: build of {source.name}: {seconds:.1f} s, {report.passages} passages")
            if source not in best or seconds < best[source][0]:
                best[source] = (seconds, report.passages)
            shutil.rmtree(index_dir, ignore_errors=True)
    return best


def make_hostile(folder: Path, pdf_pages: int, html_bytes: int) -> dict[str, Path]:
    """The worst files tried for memory: many pages, a zip bomb inside a .docx, a huge HTML page."""
    import zipfile

    stories = _stories(40)
    page = PdfPage(fit_column(stories[0][1]), fit_column(stories[1][1]))
    files = {f"PDF of {pdf_pages:,} pages": folder / "many-pages.pdf"}
    files[f"PDF of {pdf_pages:,} pages"].write_bytes(two_column_pdf([page] * pdf_pages))
    bomb = folder / "bomb.docx"
    base = docx_file("Bomb", [("Story", stories[2][1])])
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item, source.read(item))
        with out.open("word/media/bomb.bin", "w", force_zip64=True) as part:
            for _ in range(1024):
                part.write(bytes(1024 * 1024))
    files[f"zip bomb .docx ({human_bytes(bomb.stat().st_size)} unpacking to 1 GiB)"] = bomb
    huge = folder / "huge.html"
    paragraphs = [p for _, story in stories for p in story]
    repeats = html_bytes // sum(len(p) + 7 for p in paragraphs) + 1
    huge.write_text(html_page("A very long page", paragraphs * repeats), encoding="utf-8")
    files[f"HTML page of {human_bytes(huge.stat().st_size)}"] = huge
    return files


_PEAK_SCRIPT = """
import sys
from pathlib import Path
from indexer import formats
import indexer.formats.html, indexer.formats.pdf, indexer.formats.docx
path = Path(sys.argv[1])
if path.name != "-":
    result = formats.extract(path.suffix, path.read_bytes())
    print(result if isinstance(result, str) else f"extracted {len(result.text):,} characters")
peak_kib = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
print(f"peak {peak_kib}")
"""


def peak_rss(path: Path | None) -> tuple[int, str, float]:
    """Peak resident memory (bytes, VmHWM) of a fresh process extracting ``path`` (None: imports only)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(path) if path else "-"],
        capture_output=True,
        text=True,
        env=offline_env(PYTHONPATH=os.getcwd()),
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines or not lines[-1].startswith("peak "):
        raise RuntimeError(f"extracting {path} failed: {done.stdout}{done.stderr}")
    outcome = lines[-2] if len(lines) > 1 else ""
    return int(lines[-1].split()[1]) * 1024, outcome, time.perf_counter() - started


def run(quick: bool = False, log: Log = print) -> Section:
    count, rounds, pdf_pages, html_bytes = (120, 1, 300, 2_000_000) if quick else (480, 2, 2000, 10_000_000)
    workdir = Path(tempfile.mkdtemp(prefix="seedsearch-bench-formats-"))
    try:
        mixed, plain = workdir / "mixed", workdir / "plain"
        mixed.mkdir()
        plain.mkdir()
        log(f"formats: writing PDF, HTML and Word files from {count} Reuters stories")
        make_files(mixed, _stories(count))
        rows, _ = extraction_rows(mixed, plain)
        builds = build_seconds([plain, mixed], workdir, rounds, log)
        log("formats: peak memory of the worst files")
        hostile = make_hostile(workdir, pdf_pages, html_bytes)
        baseline = peak_rss(None)[0]
        memory_rows = [("imports only", human_bytes(baseline), "-", "-")]
        for name, path in hostile.items():
            peak, outcome, seconds = peak_rss(path)
            memory_rows.append((name, human_bytes(peak), f"{seconds:.1f}", outcome[:90]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    (plain_s, plain_passages), (mixed_s, mixed_passages) = builds[plain], builds[mixed]
    extra = mixed_s / plain_s - 1
    tables = [
        Table(
            "Extraction alone, file by file (`indexer.formats.extract`):",
            ("format", "files", "bytes", "seconds", "files/s", "pages/s", "ms/file"),
            tuple(rows),
        ),
        Table(
            f"Full builds with the bundled model (fastest of {rounds}), the same text as files and as .txt:",
            ("source", "passages", "build s"),
            (
                ("PDF + HTML + Word files", f"{mixed_passages:,}", f"{mixed_s:.1f}"),
                ("the extracted text as .txt", f"{plain_passages:,}", f"{plain_s:.1f}"),
                ("extra for extraction", "", f"{extra:+.1%}"),
            ),
        ),
        Table(
            "Peak resident memory (VmHWM) of one process extracting one file, and what it answered:",
            ("file", "peak RSS", "seconds", "outcome"),
            tuple(memory_rows),
            text_columns=1,
        ),
    ]
    target = Target(
        "extraction's share of a build", f"<= {TARGET_EXTRA:.0%} extra", f"{extra:+.1%}", extra <= TARGET_EXTRA
    )
    notes = [
        f"{count} Reuters stories: a third as two-column PDFs ({PAGES_PER_PDF} pages each, two stories a page), "
        "a third as news pages with boilerplate, a third as Word files."
    ]
    return Section("Document formats", tables, notes, [target])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="120 stories, one build each, a 300-page PDF.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the section as markdown here.")
    args = parser.parse_args(argv)
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    text = run(args.quick, log=lambda message: print(message, file=sys.stderr, flush=True)).to_markdown()
    report(text, args.out)


if __name__ == "__main__":
    main()
