"""Word ``.docx`` files through python-docx: paragraphs, headings as sections, tables as text, core properties.

The archive is checked before it is opened: too many parts, or parts that unpack to far more than they take
(a zip bomb), skip the file instead of filling memory.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import docx
from docx.document import Document as WordDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from indexer.formats import Extracted, Limits
from indexer.formats.dates import to_iso

MAX_PARTS = 10_000
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")


def extract(data: bytes, limits: Limits) -> Extracted | str:
    """Extract a Word document's text (headings as markdown ``#`` lines) and core properties."""
    if data.startswith(_CFB_MAGIC):
        if _ENCRYPTED_MARK in data:
            return "encrypted Word file (password-protected); save an unprotected copy to index it"
        return "an old binary Word .doc file named .docx; save it as .docx to index it"
    problem = _check_archive(data, limits)
    if problem:
        return problem
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as err:
        return f"corrupt Word file ({err}); repair or re-save it to index it"
    except Exception as err:  # lxml and python-docx raise many kinds on broken parts
        return f"cannot read the Word file ({type(err).__name__}: {err}); re-save it to index it"
    blocks = [block for block in (_block_text(item) for item in document.iter_inner_content()) if block]
    text = "\n\n".join(blocks)
    if not text.strip():
        return "no text in the Word file"
    return Extracted(text + "\n", _title(document), _metadata(document))


def _check_archive(data: bytes, limits: Limits) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile as err:
        return f"corrupt or truncated Word file (not a readable ZIP archive: {err}); re-save it to index it"
    if len(parts) > MAX_PARTS:
        return f"the Word file has {len(parts):,} parts, over the limit of {MAX_PARTS:,} (a zip bomb?)"
    unpacked = sum(part.file_size for part in parts)
    if unpacked > 8 * limits.max_bytes:
        return f"the Word file unpacks to {unpacked:,} bytes, over the limit of {8 * limits.max_bytes:,} (a zip bomb?)"
    for part in parts:
        if part.file_size > 1_000_000 and part.file_size > limits.max_zip_ratio * max(part.compress_size, 1):
            return (
                f"part {part.filename!r} of the Word file unpacks {part.file_size // max(part.compress_size, 1):,} "
                f"times its size, over the limit of {limits.max_zip_ratio} (a zip bomb?)"
            )
    return None


def _block_text(item: Paragraph | Table) -> str:
    if isinstance(item, Table):
        return _table_text(item)
    text = item.text.strip()
    style = item.style.name if item.style is not None else ""
    if text and style and style.startswith("Heading"):
        level = style.removeprefix("Heading").strip()
        return "#" * (int(level) if level.isdigit() and 1 <= int(level) <= 6 else 1) + " " + " ".join(text.split())
    if text and style == "Title":
        return "# " + " ".join(text.split())
    return text


def _table_text(table: Table) -> str:
    """One line a row, cells separated by " | " (merged cells, repeated by python-docx, kept once)."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            value = " ".join(cell.text.split())
            if value and (not cells or cells[-1] != value):
                cells.append(value)
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _title(document: WordDocument) -> str | None:
    title = document.core_properties.title
    return title.strip() if title and title.strip() else None


def _metadata(document: WordDocument) -> dict[str, Any]:
    properties = document.core_properties
    metadata: dict[str, Any] = {}
    if properties.author and properties.author.strip():
        metadata["author"] = properties.author.strip()
    published = to_iso(properties.created)
    if published:
        metadata["published"] = published
    return metadata
