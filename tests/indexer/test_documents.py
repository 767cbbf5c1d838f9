"""Loading documents: good ones load with ids and titles, each bad one is skipped with its file and reason."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
from pathlib import Path

import pytest

from indexer.documents import (
    DEFAULT_MAX_FILE_BYTES,
    Document,
    LoadedDocuments,
    NoDocumentsError,
    SkippedSource,
    SourceNotFoundError,
    iter_documents,
    load_documents,
)
from tests import paths

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "000_2ab4845599296aef.txt"
REUTERS = paths.REUTERS
SCIFACT = paths.SCIFACT / "corpus.jsonl"

GOOD = "A good document.\n\nIt has two paragraphs."


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def by_id(loaded: LoadedDocuments) -> dict[str, Document]:
    return {d.doc_id: d for d in loaded.documents}


def skipped_reason(loaded: LoadedDocuments, source: Path | str) -> str:
    reasons = [s.reason for s in loaded.skipped if s.source == str(source)]
    assert len(reasons) == 1, (source, loaded.skipped)
    return reasons[0]


# ------------------------------------------------------------------------------------------------ good documents


def test_folder_is_searched_recursively_with_relative_posix_ids(tmp_path: Path):
    write(tmp_path / "a.txt", GOOD)
    write(tmp_path / "sub" / "deeper" / "b.md", "# B title\n\nBody of b.")
    write(tmp_path / "sub" / "z.txt", "Last in path order.")
    write(tmp_path / "sub" / "c.jsonl", json.dumps({"_id": "c1", "title": "C one", "text": "Body of c."}) + "\n")
    write(tmp_path / ".hidden" / "d.txt", "Hidden folders are left out.")

    loaded = load_documents([tmp_path])

    assert [d.doc_id for d in loaded.documents] == ["a.txt", "c1", "sub/deeper/b.md", "sub/z.txt"]
    assert loaded.skipped == []
    b = by_id(loaded)["sub/deeper/b.md"]
    assert b.source == str(tmp_path / "sub" / "deeper" / "b.md")
    assert b.metadata["format"] == "md" and b.metadata["encoding"] == "utf-8"


def test_a_single_file_gets_its_file_name_as_id(tmp_path: Path):
    path = write(tmp_path / "notes" / "one.txt", GOOD)
    (document,) = load_documents([path]).documents
    assert document.doc_id == "one.txt"
    assert document.text == GOOD


def test_content_hash_is_sha256_of_the_text_and_metadata_is_json(tmp_path: Path):
    write(tmp_path / "a.txt", GOOD)
    record = {"_id": "r1", "title": "T", "text": "Text of r1.", "date": "26-FEB-1987", "topics": ["cocoa"]}
    write(tmp_path / "r.jsonl", json.dumps(record) + "\n")
    loaded = by_id(load_documents([tmp_path]))
    assert loaded["a.txt"].content_hash == hashlib.sha256(GOOD.encode()).hexdigest()
    r1 = loaded["r1"]
    assert r1.source == f"{tmp_path / 'r.jsonl'}:1"
    assert r1.metadata["date"] == "26-FEB-1987" and r1.metadata["topics"] == ["cocoa"]
    assert r1.metadata["source_line"] == 1
    assert "text" not in r1.metadata and "_id" not in r1.metadata
    json.dumps(dict(r1.metadata))
    json.dumps(dict(loaded["a.txt"].metadata))


def test_jsonl_takes_id_when_there_is_no_underscore_id(tmp_path: Path):
    path = write(tmp_path / "r.jsonl", json.dumps({"id": 7, "text": "Seven."}) + "\n" + '{"text": "No id."}\n')
    docs = load_documents([path]).documents
    assert [d.doc_id for d in docs] == ["7", "r.jsonl:2"]


def test_windows_newlines_and_byte_order_mark_are_normalised(tmp_path: Path):
    path = write(tmp_path / "w.txt", b"\xef\xbb\xbfFirst line.\r\nSecond line.\r\n")
    (document,) = load_documents([path]).documents
    assert document.text == "First line.\nSecond line.\n"


# ------------------------------------------------------------------------------------------------------- titles


def test_title_comes_from_the_title_field(tmp_path: Path):
    path = write(tmp_path / "r.jsonl", json.dumps({"_id": "x", "title": "  Field title ", "text": "Body."}) + "\n")
    assert load_documents([path]).documents[0].title == "Field title"


@pytest.mark.parametrize(
    ("name", "text", "title"),
    [
        ("a.md", "# Markdown title\n\nThe body text.", "Markdown title"),
        ("b.txt", "Plain heading line\n\nThe body text follows here.", "Plain heading line"),
        ("c.txt", "Plain heading line\nThe body text follows on the next line.", "Plain heading line"),
        ("d.txt", "This first line is a sentence.\nAnd so is this one.", "d"),
        ("e.txt", "Only one line without a heading", "e"),
    ],
)
def test_title_is_a_heading_first_line_else_the_file_name(tmp_path: Path, name: str, text: str, title: str):
    (document,) = load_documents([write(tmp_path / name, text)]).documents
    assert document.title == title


def test_jsonl_record_without_title_uses_its_heading_or_its_id(tmp_path: Path):
    lines = [
        json.dumps({"_id": "h", "text": "# Heading of h\n\nBody of h."}),
        json.dumps({"_id": "n", "text": "Body of n without heading."}),
    ]
    loaded = by_id(load_documents([write(tmp_path / "r.jsonl", "\n".join(lines))]))
    assert loaded["h"].title == "Heading of h"
    assert loaded["n"].title == "n"


# -------------------------------------------------------------------------------------------------- bad documents


def test_each_bad_file_is_skipped_with_its_reason_and_the_good_ones_load(tmp_path: Path):
    write(tmp_path / "good.txt", GOOD)
    empty = write(tmp_path / "empty.txt", b"")
    blank = write(tmp_path / "blank.md", " \n\t\n  ")
    binary = write(tmp_path / "binary.txt", b"PK\x03\x04\x00\x00\x08\x00some zip bytes")
    noisy = write(tmp_path / "noisy.txt", bytes(range(1, 9)) * 20)
    pdf = write(tmp_path / "paper.pdf", b"%PDF-1.4")

    loaded = load_documents([tmp_path])

    assert [d.doc_id for d in loaded.documents] == ["good.txt"]
    assert "empty" in skipped_reason(loaded, empty)
    assert "white space" in skipped_reason(loaded, blank)
    assert "binary" in skipped_reason(loaded, binary) and "NUL" in skipped_reason(loaded, binary)
    assert "binary" in skipped_reason(loaded, noisy)
    assert "corrupt or truncated PDF" in skipped_reason(loaded, pdf)
    assert len(loaded.skipped) == 5


def test_windows_1252_text_is_decoded_and_its_encoding_recorded(tmp_path: Path):
    path = write(tmp_path / "old.txt", "Un café – naïve “idée”.\n".encode("cp1252"))
    (document,) = load_documents([path]).documents
    assert document.text == "Un café – naïve “idée”.\n"
    assert document.metadata["encoding"] == "cp1252"


def test_latin_1_text_is_decoded(tmp_path: Path):
    path = write(tmp_path / "latin.txt", "Gar\xe7on, d\xe9j\xe0 vu.".encode("latin-1"))
    (document,) = load_documents([path]).documents
    assert document.text == "Garçon, déjà vu."
    assert document.metadata["encoding"] in {"cp1252", "latin-1"}


def test_file_over_max_file_bytes_is_skipped_with_the_setting_to_raise(tmp_path: Path):
    write(tmp_path / "small.txt", GOOD)
    big = write(tmp_path / "big.txt", "word " * 100)
    loaded = load_documents([tmp_path], max_file_bytes=200)
    assert [d.doc_id for d in loaded.documents] == ["small.txt"]
    reason = skipped_reason(loaded, big)
    assert "max_file_bytes" in reason and "raise" in reason
    assert DEFAULT_MAX_FILE_BYTES >= 10 * 1024 * 1024


def test_broken_jsonl_lines_and_records_without_text_are_skipped_by_line(tmp_path: Path):
    path = write(
        tmp_path / "corpus.jsonl",
        "\n".join(
            [
                json.dumps({"_id": "ok1", "text": "First good record."}),
                '{"_id": "broken", "text": "missing the end',
                json.dumps({"_id": "notext", "title": "Only a title"}),
                json.dumps(["an", "array"]),
                "",
                json.dumps({"_id": "ok2", "text": "Second good record."}),
                json.dumps({"_id": "blank", "text": "   "}),
            ]
        ),
    )
    loaded = load_documents([path])
    assert [d.doc_id for d in loaded.documents] == ["ok1", "ok2"]
    assert "line 2" in skipped_reason(loaded, f"{path}:2") and "not valid JSON" in skipped_reason(loaded, f"{path}:2")
    assert "no text" in skipped_reason(loaded, f"{path}:3")
    assert "not an object" in skipped_reason(loaded, f"{path}:4")
    assert "no text" in skipped_reason(loaded, f"{path}:7")
    assert len(loaded.skipped) == 4


def test_jsonl_line_in_windows_1252_is_decoded(tmp_path: Path):
    path = write(tmp_path / "r.jsonl", '{"_id": "c", "text": "caf\xe9 \x96 na\xefve"}\n'.encode("latin-1"))
    (document,) = load_documents([path]).documents
    assert document.text == "café – naïve"
    assert document.metadata["encoding"] == "cp1252"


def test_duplicate_ids_keep_the_first_and_duplicate_content_is_skipped(tmp_path: Path):
    path = write(
        tmp_path / "r.jsonl",
        "\n".join(
            [
                json.dumps({"_id": "a", "text": "Text of a."}),
                json.dumps({"_id": "a", "text": "Another text under the same id."}),
                json.dumps({"_id": "b", "text": "Text of a."}),
            ]
        ),
    )
    copy = write(tmp_path / "z-copy.txt", "Text of a.")  # after r.jsonl in name order
    loaded = load_documents([tmp_path])
    assert [(d.doc_id, d.text) for d in loaded.documents] == [("a", "Text of a.")]
    assert "duplicate document id 'a'" in skipped_reason(loaded, f"{path}:2")
    assert "duplicate content" in skipped_reason(loaded, f"{path}:3")
    assert "duplicate content" in skipped_reason(loaded, copy) and "'a'" in skipped_reason(loaded, copy)


def test_unreadable_file_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write(tmp_path / "good.txt", GOOD)
    locked = write(tmp_path / "locked.txt", "Secret text.")
    real_open = pathlib.Path.open

    def guarded_open(self: Path, *args, **kwargs):  # tests run as root, where chmod 000 blocks nothing
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", guarded_open)
    loaded = load_documents([tmp_path])
    assert [d.doc_id for d in loaded.documents] == ["good.txt"]
    assert "permission denied" in skipped_reason(loaded, locked)


def test_unreadable_folder_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write(tmp_path / "good.txt", GOOD)
    locked = tmp_path / "locked"
    write(locked / "inside.txt", "Cannot be listed.")
    real_scandir = os.scandir

    def guarded_scandir(path):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", guarded_scandir)
    loaded = load_documents([tmp_path])
    assert [d.doc_id for d in loaded.documents] == ["good.txt"]
    assert "permission denied" in skipped_reason(loaded, locked)


def test_symlink_loops_and_broken_links_are_reported_not_followed(tmp_path: Path):
    root = tmp_path / "docs"
    write(root / "good.txt", GOOD)
    write(root / "sub" / "inner.txt", "Inner document text.")
    os.symlink(root, root / "sub" / "back-to-root")  # a folder loop
    os.symlink(root / "self.txt", root / "self.txt")  # a link to itself
    os.symlink(root / "missing.txt", root / "dangling.txt")

    loaded = load_documents([root])

    assert [d.doc_id for d in loaded.documents] == ["good.txt", "sub/inner.txt"]
    assert "already searched" in skipped_reason(loaded, root / "sub" / "back-to-root")
    assert "loop" in skipped_reason(loaded, root / "self.txt")
    assert "broken symbolic link" in skipped_reason(loaded, root / "dangling.txt")


def test_links_leaving_the_source_are_refused_and_reported_and_the_rest_loads(tmp_path: Path):
    secret = write(tmp_path / "outside" / "secret.txt", "The secret that must not be served.")
    write(tmp_path / "outside" / "more" / "far.txt", "Far away text.")
    root = tmp_path / "docs"
    write(root / "good.txt", GOOD)
    write(root / "sub" / "inner.txt", "Inner document text.")
    os.symlink(secret, root / "leak.txt")
    os.symlink(tmp_path / "outside" / "more", root / "linked")
    os.symlink(root / "sub" / "inner.txt", root / "an-alias.txt")  # inside the source: allowed

    loaded = load_documents([root])

    assert [d.doc_id for d in loaded.documents] == ["an-alias.txt", "good.txt"]
    for link in ("leak.txt", "linked"):
        reason = skipped_reason(loaded, root / link)
        assert "outside the source folders" in reason and "--follow-links" in reason
    assert "duplicate content" in skipped_reason(loaded, root / "sub" / "inner.txt")
    assert all("secret" not in d.text for d in loaded.documents)


def test_links_inside_another_source_root_are_followed(tmp_path: Path):
    write(tmp_path / "shared" / "common.txt", "Common text shared by both.")
    write(tmp_path / "docs" / "good.txt", GOOD)
    os.symlink(tmp_path / "shared", tmp_path / "docs" / "shared-link")
    loaded = load_documents([tmp_path / "docs"])
    assert [d.doc_id for d in loaded.documents] == ["good.txt"]
    loaded = load_documents([tmp_path / "shared", tmp_path / "docs"])
    assert [d.doc_id for d in loaded.documents] == ["common.txt", "good.txt"]  # the link repeats common.txt
    assert "duplicate" in skipped_reason(loaded, tmp_path / "docs" / "shared-link" / "common.txt")


def test_follow_links_indexes_what_links_outside_point_to(tmp_path: Path):
    outside = write(tmp_path / "outside" / "far.txt", "Far away text.").parent
    write(tmp_path / "docs" / "good.txt", GOOD)
    os.symlink(outside, tmp_path / "docs" / "linked")
    os.symlink(outside / "far.txt", tmp_path / "docs" / "z-far-file.txt")
    loaded = load_documents([tmp_path / "docs"], follow_links=True)
    assert [d.doc_id for d in loaded.documents] == ["good.txt", "linked/far.txt"]
    assert "duplicate content" in skipped_reason(loaded, tmp_path / "docs" / "z-far-file.txt")


# ------------------------------------------------------------------------------------------ hostile contents


@pytest.mark.parametrize("depth", [1_000, 5_000, 200_000])
def test_jsonl_line_nested_at_any_depth_is_skipped_and_the_rest_loads(tmp_path: Path, depth: int):
    deep = '{"_id": "deep", "text": "Deep text.", "meta": ' + "[" * depth + "]" * depth + "}"
    lines = [json.dumps({"_id": "a", "text": "First record."}), deep, json.dumps({"_id": "b", "text": "Last."})]
    path = write(tmp_path / "c.jsonl", "\n".join(lines) + "\n")
    loaded = load_documents([path])
    assert [d.doc_id for d in loaded.documents] == ["a", "b"]
    assert "more than 900 levels deep" in skipped_reason(loaded, f"{path}:2")


def test_jsonl_record_nested_within_the_limit_loads(tmp_path: Path):
    nested = "[" * 900 + "]" * 900
    path = write(tmp_path / "c.jsonl", '{"_id": "n", "text": "Nested text.", "meta": ' + nested + "}\n")
    (document,) = load_documents([path]).documents
    assert json.dumps(document.metadata["meta"]) == nested.replace("][", "], [")


def test_control_characters_in_file_names_are_escaped_in_report_lines(tmp_path: Path):
    write(tmp_path / "good.txt", GOOD)
    forged = write(tmp_path / "evil\nskipped FAKE-ENTRY: all fine.bin", "x")
    loaded = load_documents([tmp_path])
    (skipped,) = loaded.skipped
    assert skipped.source == str(forged)
    line = skipped.report_line()
    assert "\n" not in line and "evil\\nskipped FAKE-ENTRY" in line


def test_file_name_with_a_newline_keeps_it_in_its_id(tmp_path: Path):
    write(tmp_path / "new\nline.txt", GOOD)
    (document,) = load_documents([tmp_path]).documents
    assert document.doc_id == "new\nline.txt"


# ----------------------------------------------------------------------------------------------- no documents


def test_no_documents_at_all_raises_a_helpful_error(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoDocumentsError, match="No documents found in") as caught:
        load_documents([tmp_path / "empty"])
    message = str(caught.value)
    assert str(tmp_path / "empty") in message and ".txt" in message and "Add documents" in message


def test_only_bad_documents_raises_and_names_the_reasons(tmp_path: Path):
    write(tmp_path / "empty.txt", b"")
    with pytest.raises(NoDocumentsError, match="1 skipped.*empty file") as caught:
        load_documents([tmp_path])
    assert caught.value.skipped == [SkippedSource(str(tmp_path / "empty.txt"), "empty file")]
    assert isinstance(caught.value, ValueError)


def test_no_sources_raises(tmp_path: Path):
    with pytest.raises(NoDocumentsError, match="No sources given"):
        load_documents([])


def test_missing_source_raises_naming_it_before_reading_anything(tmp_path: Path):
    write(tmp_path / "good.txt", GOOD)
    missing = tmp_path / "nope"
    with pytest.raises(SourceNotFoundError, match="nope.*does not exist"):
        load_documents([tmp_path, missing])
    with pytest.raises(FileNotFoundError, match="nope"):
        iter_documents([tmp_path, missing])  # raised at the call, not on first iteration


def test_iter_documents_streams_documents_and_skips(tmp_path: Path):
    write(tmp_path / "a.txt", GOOD)
    write(tmp_path / "b.txt", b"")
    items = list(iter_documents([tmp_path]))
    assert [type(item) for item in items] == [Document, SkippedSource]


# --------------------------------------------------------------------------------------------------- real data


def test_seed_article_loads(tmp_path: Path):
    (document,) = load_documents([SEED]).documents
    assert document.doc_id == SEED.name
    assert document.title == SEED.stem  # its first line is a sentence, not a heading
    assert "Future of Europe at stake" in document.text


@pytest.mark.parametrize("corpus", [SCIFACT, REUTERS], ids=["scifact", "reuters"])
def test_beir_layout_corpora_load_with_ids_and_titles(corpus: Path):
    if not corpus.exists():
        pytest.skip(f"{corpus} not found (the shared datasets folder is not mounted)")
    with corpus.open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    loaded = load_documents([corpus])
    ids = [record["_id"] for record in records]
    loaded_ids = [d.doc_id for d in loaded.documents]
    assert set(loaded_ids) <= set(ids) and len(set(loaded_ids)) == len(loaded_ids)
    assert len(loaded.documents) + len(loaded.skipped) == len(records)
    assert all("duplicate content" in s.reason for s in loaded.skipped)
    texts = {record["text"] for record in records}
    assert len(loaded.documents) == len(texts)  # one document per distinct text
    first = loaded.documents[0]
    assert (first.doc_id, first.title) == (records[0]["_id"], records[0]["title"])
