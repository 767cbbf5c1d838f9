"""Every format through the loader, the splitter and a build: offsets exact, pages right, bad files reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.documents import Document, load_documents
from indexer.embedding import FakeEmbedder
from indexer.formats.pages import page_of
from indexer.passages import split_document
from indexer.reader import PassageStore
from tests.indexer.formats.fixtures import NEWS_HTML, PdfPage, docx_file, two_column_pdf
from tests.indexer.formats.test_pdf import PAGES

pytest.importorskip("pypdfium2")
pytest.importorskip("trafilatura")
pytest.importorskip("docx")
pytest.importorskip("fpdf")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mixed")
    long_pages = [PdfPage([f"Page {n} left paragraph about harbour traffic number {n}. " * 12],
                          [f"Page {n} right paragraph about grain prices on day {n}. " * 12]) for n in range(1, 6)]
    (folder / "report.pdf").write_bytes(two_column_pdf(PAGES, title="Harbour quarterly"))
    (folder / "long.pdf").write_bytes(two_column_pdf(long_pages))
    (folder / "article.html").write_bytes(NEWS_HTML.encode())
    (folder / "memo.docx").write_bytes(
        docx_file("Board memo", [("Budget", ["The budget grows by four percent next year."])], author="A. Chair")
    )
    (folder / "wire.txt").write_text(
        "PORT ELLING DOCKERS END STRIKE\n\nPORT ELLING, November 3, 2026 - Dock workers voted to return.\n",
        encoding="utf-8",
    )
    (folder / "old.txt").write_bytes("Un café – naïve “idée”.\n".encode("cp1252"))
    (folder / "bad-byte.txt").write_bytes("Zürich ... Kraków ... €".encode() + b"\xff\n")
    (folder / "records.jsonl").write_text(json.dumps({"_id": "r1", "text": "Cocoa.", "date": "26-FEB-1987"}) + "\n")
    return folder


@pytest.fixture(scope="module")
def documents(mixed: Path) -> dict[str, Document]:
    return {d.doc_id: d for d in load_documents([mixed]).documents}


def test_every_format_loads_with_its_title_and_published_date(documents: dict[str, Document]) -> None:
    assert documents["report.pdf"].title == "Harbour quarterly"
    assert documents["article.html"].title == "Harbour strike ends after nine days"
    assert documents["memo.docx"].title == "Board memo"
    assert documents["wire.txt"].title == "PORT ELLING DOCKERS END STRIKE"
    assert documents["article.html"].metadata["published"] == "2026-11-03"
    assert documents["wire.txt"].metadata["published"] == "2026-11-03"
    assert documents["r1"].metadata["published"] == "1987-02-26"
    assert documents["old.txt"].metadata["encoding"] == "cp1252"
    assert documents["bad-byte.txt"].text == "Zürich ... Kraków ... €\ufffd\n"
    assert documents["bad-byte.txt"].metadata["replaced_bytes"] == 1
    for document in documents.values():
        json.dumps(dict(document.metadata))


def test_passage_offsets_are_exact_in_every_format(documents: dict[str, Document]) -> None:
    counter = FakeEmbedder(dimension=8).count_tokens
    for document in documents.values():
        passages = split_document(document, counter, max_tokens=40)
        assert passages, document.doc_id
        for passage in passages:
            assert document.text[passage.start : passage.end] == passage.text


def test_no_passage_spans_a_page_break_and_each_has_its_page(documents: dict[str, Document]) -> None:
    counter = FakeEmbedder(dimension=8).count_tokens
    document = documents["long.pdf"]
    passages = split_document(document, counter, max_tokens=60)
    pages = [(page_of(document.metadata, p.start), page_of(document.metadata, p.end - 1)) for p in passages]
    assert all(first == last for first, last in pages)
    assert {first for first, _ in pages} == {1, 2, 3, 4, 5}
    for passage, (page, _) in zip(passages, pages, strict=True):
        assert f"Page {page} " in passage.text or f"day {page}." in passage.text or f"number {page}." in passage.text


def test_the_html_sub_headings_become_sections(documents: dict[str, Document]) -> None:
    passages = split_document(documents["article.html"], FakeEmbedder(dimension=8).count_tokens, max_tokens=128)
    sections = {p.section for p in passages}
    assert {"Backlog of ships", "What the vote means"} <= sections


def test_bad_files_are_skipped_with_reasons_and_the_rest_loads(mixed: Path, tmp_path: Path) -> None:
    good = load_documents([mixed]).documents
    (tmp_path / "zero.pdf").write_bytes(b"")
    (tmp_path / "scan.html").write_bytes((mixed / "report.pdf").read_bytes())
    (tmp_path / "half.docx").write_bytes((mixed / "memo.docx").read_bytes()[:500])
    (tmp_path / "half.pdf").write_bytes((mixed / "report.pdf").read_bytes()[:300])
    (tmp_path / "fine.txt").write_text("A fine document.\n")
    loaded = load_documents([tmp_path, mixed])
    reasons = {Path(s.source).name: s.reason for s in loaded.skipped}
    assert reasons["zero.pdf"] == "empty file"
    assert reasons["scan.html"].startswith("the file is a PDF but its name ends in .html")
    assert reasons["half.docx"].startswith("corrupt or truncated Word file")
    assert reasons["half.pdf"].startswith("corrupt or truncated PDF")
    assert len(loaded.documents) == len(good) + 1


def test_a_build_indexes_every_format_and_reports_replaced_bytes(mixed: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    report = build_index([mixed], tmp_path / "index", FakeEmbedder(dimension=16), log=lines.append)
    assert report.documents == 8 and not report.skipped
    assert any("bad-byte.txt as utf-8 with 1 undecodable byte replaced" in line for line in lines)
    store = PassageStore(report.build_dir / "passages.sqlite")  # type: ignore[operator]
    stored = store.document("report.pdf")
    assert stored is not None and stored.metadata["page_starts"][0] == 0
