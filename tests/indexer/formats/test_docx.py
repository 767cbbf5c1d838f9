"""Word: paragraphs, headings as sections, tables as text, core properties; bombs and broken files skipped."""

from __future__ import annotations

import io
import zipfile

import pytest

from indexer.formats import Extracted, Limits, extract
from tests.indexer.formats.fixtures import docx_file

pytest.importorskip("docx")

SECTIONS = [
    ("Sales", ["Sales rose by a tenth in the northern region.", "They fell slightly in the south."]),
    ("Outlook", ["The board expects growth to continue next year."]),
]
TABLE = [["Region", "Revenue"], ["North", "12.5"], ["South", "8.1"]]


@pytest.fixture(scope="module")
def word_bytes() -> bytes:
    return docx_file("Annual report", SECTIONS, TABLE, author="Jo Writer")


@pytest.fixture(scope="module")
def word(word_bytes: bytes) -> Extracted:
    result = extract(".docx", word_bytes)
    assert isinstance(result, Extracted), result
    return result


def test_paragraphs_and_headings_in_order(word: Extracted) -> None:
    expected = "# Sales\n\nSales rose by a tenth in the northern region.\n\nThey fell slightly in the south."
    assert expected in word.text
    assert word.text.index("# Sales") < word.text.index("# Outlook") < word.text.index("The board expects")


def test_tables_are_text_one_row_a_line(word: Extracted) -> None:
    assert "Region | Revenue\nNorth | 12.5\nSouth | 8.1" in word.text


def test_core_properties_are_title_author_and_published(word: Extracted) -> None:
    assert word.title == "Annual report"
    assert word.metadata["author"] == "Jo Writer"
    assert word.metadata["published"] == "2026-05-02T08:00:00+00:00"


def _rezip(word_bytes: bytes, extra: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(word_bytes)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item, source.read(item))
        for name, data in extra.items():
            out.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_bomb_part_is_refused_before_unpacking(word_bytes: bytes) -> None:
    bomb = _rezip(word_bytes, {"word/media/bomb.bin": b"\0" * 50_000_000})
    assert len(bomb) < 200_000
    reason = extract(".docx", bomb)
    assert isinstance(reason, str) and "zip bomb" in reason and "word/media/bomb.bin" in reason


def test_a_docx_unpacking_past_the_byte_limit_is_refused(word_bytes: bytes) -> None:
    reason = extract(".docx", word_bytes, Limits(max_bytes=1_000))
    assert isinstance(reason, str) and "unpacks to" in reason and "zip bomb" in reason


def test_a_truncated_docx_is_skipped_as_corrupt(word_bytes: bytes) -> None:
    reason = extract(".docx", word_bytes[: len(word_bytes) // 2])
    assert isinstance(reason, str) and reason.startswith("corrupt or truncated Word file")


def test_a_password_protected_docx_is_skipped_as_encrypted() -> None:
    # Word saves a protected .docx as an OLE compound file holding an "EncryptedPackage" stream.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 64
    assert extract(".docx", ole) == "encrypted Word file (password-protected); save an unprotected copy to index it"


def test_a_zip_that_is_not_a_word_file_is_skipped() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    reason = extract(".docx", buffer.getvalue())
    assert reason == "the file is a ZIP archive but its name ends in .docx"
