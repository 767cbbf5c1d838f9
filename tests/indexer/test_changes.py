"""Adding and removing documents of a published index through the incremental build."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.changes import UnknownDocumentError, add_files, add_record, remove_documents
from indexer.database import document_hashes
from indexer.embedding import FakeEmbedder
from indexer.index_dir import DATABASE, resolve_build
from tests.indexer.formats.fixtures import PdfPage, two_column_pdf


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting the passages it encodes."""

    encoded = 0

    def encode_passages(self, texts, progress=False):  # type: ignore[no-untyped-def]
        type(self).encoded += len(texts)
        return super().encode_passages(texts, progress=progress)


def ids(index_dir: Path) -> set[str]:
    return set(document_hashes(resolve_build(index_dir) / DATABASE))


def test_add_embeds_only_the_new_document_and_a_full_rebuild_keeps_it(fake_index: Path, tmp_path: Path) -> None:
    embedder = CountingEmbedder(dimension=32)
    before = ids(fake_index)
    pdf = tmp_path / "upload.bin"
    pdf.write_bytes(two_column_pdf([PdfPage(["Glaciers retreated along the fjord this summer."], ["Ice."])]))
    CountingEmbedder.encoded = 0
    report = add_files(fake_index, [("../../Glacier Report.pdf", pdf)], embedder)
    assert [d.doc_id for d in report.indexed] == ["Glacier_Report.pdf"]  # the name cannot leave added/
    assert report.indexed[0].passages >= 1 and CountingEmbedder.encoded == report.indexed[0].passages
    assert ids(fake_index) == before | {"Glacier_Report.pdf"}
    assert (fake_index / "added" / "Glacier_Report.pdf").is_file()

    record = {"id": "note-1", "title": "A note", "text": "Otters were seen in the river.", "date": "2026-11-30"}
    assert [d.doc_id for d in add_record(fake_index, record, embedder).indexed] == ["note-1"]
    sources = [Path(s) for s in __import__("json").loads(
        (resolve_build(fake_index) / "manifest.json").read_text())["extra"]["sources"]]
    build_index(sources, fake_index, embedder, full=True)
    assert ids(fake_index) == before | {"Glacier_Report.pdf", "note-1"}


def test_a_file_that_cannot_be_read_is_skipped_with_its_reason(fake_index: Path, tmp_path: Path) -> None:
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4 truncated")
    report = add_files(fake_index, [("scan.pdf", bad)], FakeEmbedder(dimension=32))
    assert report.indexed == [] and report.build is None
    assert report.skipped[0].source == "scan.pdf" and report.skipped[0].reason
    assert not (fake_index / "added" / "scan.pdf").exists()


def test_remove_takes_a_document_out_for_good(fake_index: Path) -> None:
    embedder = FakeEmbedder(dimension=32)
    report = remove_documents(fake_index, ["cocoa.txt"], embedder)
    assert report.removed == ["cocoa.txt"] and "cocoa.txt" not in ids(fake_index)
    sources = [Path(s) for s in __import__("json").loads(
        (resolve_build(fake_index) / "manifest.json").read_text())["extra"]["sources"]]
    build_index(sources, fake_index, embedder, full=True)  # the file is still in the source folder
    assert "cocoa.txt" not in ids(fake_index)
    add_record(fake_index, {"id": "cocoa.txt", "text": "Cocoa is back."}, embedder)
    assert "cocoa.txt" in ids(fake_index)
    with pytest.raises(UnknownDocumentError):
        remove_documents(fake_index, ["no-such-document"], embedder)


def test_concurrent_additions_queue_and_none_is_lost(fake_index: Path) -> None:
    import threading

    embedder = FakeEmbedder(dimension=32)
    errors: list[BaseException] = []

    def add(number: int) -> None:
        try:
            add_record(fake_index, {"id": f"n{number}", "text": f"Note number {number} about tides."}, embedder)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert {f"n{n}" for n in range(6)} <= ids(fake_index)
