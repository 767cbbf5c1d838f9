"""The format dispatch: what a file really is, a missing extractor named with its extra, dates from datelines."""

from __future__ import annotations

import sys

import pytest

from indexer.formats import Extracted, extract, mislabelled, sniff


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", ".pdf"),
        (b"PK\x03\x04....[Content_Types].xml word/document.xml", ".docx"),
        (b"PK\x03\x04....notes.txt", ".zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".doc"),
        (b"\xef\xbb\xbf  <!DOCTYPE html><html>", ".html"),
        (b"<HTML><body>", ".html"),
        (b"Plain words.", None),
    ],
)
def test_sniff_reads_the_content_not_the_name(head: bytes, kind: str | None) -> None:
    assert sniff(head) == kind


def test_mislabelled_files_say_what_they_are() -> None:
    assert mislabelled(".html", b"%PDF-1.4") == (
        "the file is a PDF but its name ends in .html; rename it to .pdf to index it"
    )
    assert mislabelled(".pdf", b"<!doctype html><p>x") == (
        "the file is an HTML page but its name ends in .pdf; rename it to .html to index it"
    )
    assert str(mislabelled(".txt", b"%PDF-1.4")).startswith("binary file: the file is a PDF")
    assert mislabelled(".txt", b"<html><p>Saved as text</p></html>") is None  # HTML source is text
    assert mislabelled(".htm", b"<!doctype html>") is None


def test_an_empty_file_is_skipped_whatever_its_kind() -> None:
    for suffix in (".pdf", ".docx", ".html", ".txt"):
        assert extract(suffix, b"") == "empty file"


def test_a_missing_extractor_is_a_skip_reason_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "indexer.formats.pdf", raising=False)
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # importing it now raises ImportError
    reason = extract(".pdf", b"%PDF-1.4\n")
    assert reason == "cannot read a PDF: pypdfium2 is not installed; run pip install 'seedsearch[formats]'"


def test_text_files_get_a_published_date_from_their_dateline() -> None:
    result = extract(".txt", b"Harbour strike ends\n\nLONDON, March 3, 2026 (Reuters) - Dock workers voted.\n")
    assert isinstance(result, Extracted)
    assert result.metadata == {"encoding": "utf-8", "published": "2026-03-03"}


def test_utf8_with_a_bad_byte_is_extracted_with_the_count() -> None:
    result = extract(".txt", "Zürich ... Kraków ... €".encode() + b"\xff")
    assert isinstance(result, Extracted)
    assert result.text == "Zürich ... Kraków ... €\ufffd"
    assert result.metadata == {"encoding": "utf-8", "replaced_bytes": 1}
