"""Why PDFs are read with pypdfium2 and our column layout: speed and reading order of the candidate libraries.

Each candidate reads the same generated PDF: two columns a page whose lines are written row by row across both
columns (the content-stream order that mixes columns in a naive reading), with a running header and footer.
Needs ``pip install pdfplumber pypdf`` (pdfplumber brings pdfminer.six), which seedsearch does not install.

    python -m benchmarks.bench_pdf_choice [--pages 200]
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable, Sequence

from benchmarks.bench_formats import _stories
from indexer import formats
from tests.indexer.formats.fixtures import PAGE_HEADER, PdfPage, fit_column, two_column_pdf


def _pypdf(data: bytes) -> list[str]:
    import pypdf

    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def _pdfplumber(data: bytes) -> list[str]:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def _pdfminer(data: bytes) -> list[str]:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(data)).split("\f")


def _pypdfium2(data: bytes) -> list[str]:
    import pypdfium2  # type: ignore[import-untyped]  # no stubs shipped

    document = pypdfium2.PdfDocument(data)
    return [document[index].get_textpage().get_text_range() for index in range(len(document))]


def _ours(data: bytes) -> list[str]:
    result = formats.extract(".pdf", data)
    assert not isinstance(result, str), result
    return [result.text]


CANDIDATES: dict[str, Callable[[bytes], list[str]]] = {
    "pypdf (extract_text)": _pypdf,
    "pdfplumber (extract_text)": _pdfplumber,
    "pdfminer.six (layout analysis)": _pdfminer,
    "pypdfium2 (get_text_range)": _pypdfium2,
    "seedsearch: pypdfium2 + column layout": _ours,
}


def _in_order(text: str, paragraphs: Sequence[str]) -> float:
    """Share of paragraphs found whole (whitespace and line-end hyphens aside) in the text."""
    flat = " ".join(text.replace("-\n", "").replace("\ufffe", "").split())
    return sum(" ".join(p.split()) in flat for p in paragraphs) / len(paragraphs)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args(argv)
    stories = _stories(2 * args.pages)
    pages = [PdfPage(fit_column(a[1]), fit_column(b[1])) for a, b in zip(stories[::2], stories[1::2], strict=True)]
    paragraphs = [p for page in pages for p in (*page.left, *page.right)]
    data = two_column_pdf(pages, interleave=True)
    print(f"{args.pages} pages, {len(paragraphs)} paragraphs of Reuters stories in two interleaved columns\n")
    print("| library | pages/s | paragraphs read whole | running header left |")
    print("|---|---:|---:|---:|")
    for name, read in CANDIDATES.items():
        started = time.perf_counter()
        texts = read(data)
        seconds = time.perf_counter() - started
        text = "\n".join(texts)
        header = "yes" if PAGE_HEADER in text else "no"
        print(f"| {name} | {args.pages / seconds:.0f} | {_in_order(text, paragraphs):.0%} | {header} |")


if __name__ == "__main__":
    main()
