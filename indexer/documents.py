"""Load documents from files and folders of text, JSONL, HTML, PDF and Word files (``indexer.formats``).

A bad document never stops a build: it is reported as a ``SkippedSource`` with its file (and line) and the
reason, and loading goes on with the rest.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer import formats
from indexer.formats import dates as formats_dates
from indexer.formats import text as formats_text
from indexer.paragraphs import leading_heading

SUPPORTED_SUFFIXES = (".txt", ".md", ".jsonl", *formats.SUFFIXES)
DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024
"""Text files (and JSONL records) larger than this are skipped; JSONL files themselves are streamed."""

_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x9f]")
_MAX_CONTROL_SHARE = 0.01  # more control characters than this and the "text" is binary
_ID_FIELDS = ("_id", "id")
MAX_JSON_DEPTH = 900
"""JSONL records with a field nested deeper than this are skipped: such values cannot be stored and served
reliably (Python's JSON parser gives up near 1,000 levels)."""
_UNPRINTABLE_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Document:
    """One document to index. ``metadata`` is JSON-serialisable."""

    doc_id: str
    title: str
    text: str
    metadata: Mapping[str, Any] = field(hash=False)
    source: str  # file path, and ":line" for a JSONL record
    content_hash: str  # sha256 of ``text``, for incremental rebuilds


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``), so a file name cannot forge report lines."""
    if not _UNPRINTABLE_RE.search(text):
        return text
    return _UNPRINTABLE_RE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True)
class SkippedSource:
    """A file or JSONL line that was not loaded, and why."""

    source: str  # path, or path:line
    reason: str

    def report_line(self) -> str:
        """One line for a build report, control characters in the name and the reason escaped."""
        return f"skipped {printable(self.source)}: {printable(self.reason)}"


@dataclass(frozen=True)
class LoadedDocuments:
    documents: list[Document]
    skipped: list[SkippedSource]


class NoDocumentsError(ValueError):
    """Loading found no document at all."""

    def __init__(self, message: str, skipped: Sequence[SkippedSource] = ()) -> None:
        super().__init__(message)
        self.skipped = list(skipped)


class SourceNotFoundError(FileNotFoundError):
    """A source path does not exist."""


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _human_bytes(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


def _too_large(size: int, max_file_bytes: int, what: str) -> str:
    return (
        f"{what} is {_human_bytes(size)}, over the limit of {_human_bytes(max_file_bytes)} (max_file_bytes); "
        "raise max_file_bytes or split it into smaller files to index it"
    )


def _clean_text(text: str) -> str:
    """Unix newlines, and lone surrogates (from JSON escapes) replaced so the text encodes as UTF-8."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


def _decode(data: bytes) -> tuple[str, str] | str:
    """The text and its encoding, or the reason the bytes are not text."""
    decoded = formats_text.decode(data)
    if isinstance(decoded, str):
        return decoded
    return decoded.text, decoded.encoding


def _read_error(err: OSError) -> str:
    if isinstance(err, PermissionError):
        return "cannot read: permission denied; give the indexing user read access"
    return f"cannot read: {err.strerror or err}"


@dataclass
class _Seen:
    """Ids and contents already loaded, to report duplicates."""

    ids: dict[str, str] = field(default_factory=dict)  # doc_id -> source
    hashes: dict[str, str] = field(default_factory=dict)  # content hash -> doc_id

    def check(self, doc_id: str, digest: str) -> str | None:
        if doc_id in self.ids:
            return f"duplicate document id {doc_id!r}: the first one, from {self.ids[doc_id]}, is kept"
        if digest in self.hashes:
            return f"duplicate content: same text as document {self.hashes[digest]!r}, which is kept"
        return None

    def add(self, document: Document) -> None:
        self.ids[document.doc_id] = document.source
        self.hashes[document.content_hash] = document.doc_id


def _text_file(path: Path, doc_id: str, max_file_bytes: int, seen: _Seen) -> Iterator[Document | SkippedSource]:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > max_file_bytes:
            yield SkippedSource(source, _too_large(size, max_file_bytes, "file"))
            return
        with path.open("rb") as handle:
            data = handle.read(max_file_bytes + 1)
    except OSError as err:
        yield SkippedSource(source, _read_error(err))
        return
    if len(data) > max_file_bytes:  # grew since stat
        yield SkippedSource(source, _too_large(len(data), max_file_bytes, "file"))
        return
    if not data:
        yield SkippedSource(source, "empty file")
        return
    extracted = formats.extract(path.suffix, data, formats.Limits(max_bytes=max_file_bytes))
    if isinstance(extracted, str):
        yield SkippedSource(source, extracted)
        return
    text = _clean_text(extracted.text)
    if not text.strip():
        yield SkippedSource(source, "file contains only white space")
        return
    digest = content_hash(text)
    duplicate = seen.check(doc_id, digest)
    if duplicate:
        yield SkippedSource(source, duplicate)
        return
    metadata = {"source_path": source, "format": path.suffix.lower().lstrip("."), "size_bytes": len(data)}
    metadata.update(extracted.metadata)
    title = extracted.title or leading_heading(text) or formats_text.news_headline(text) or path.stem
    document = Document(doc_id, _clean_text(title), text, metadata, source, digest)
    seen.add(document)
    yield document


def _record_id(record: Mapping[str, Any], default: str) -> str | None:
    for key in _ID_FIELDS:
        if key in record:
            value = record[key]
            if isinstance(value, str) and value.strip():
                return value
            if isinstance(value, int) and not isinstance(value, bool):
                return str(value)
            return None
    return default


def _jsonl_file(path: Path, file_id: str, max_file_bytes: int, seen: _Seen) -> Iterator[Document | SkippedSource]:
    try:
        handle = path.open("rb")
    except OSError as err:
        yield SkippedSource(str(path), _read_error(err))
        return
    with handle:
        lineno = 0
        try:
            for lineno, raw in enumerate(handle, start=1):
                if raw.strip():
                    yield _jsonl_record(path, file_id, lineno, raw, max_file_bytes, seen)
        except OSError as err:
            yield SkippedSource(f"{path}:{lineno + 1}", _read_error(err))


def _json_depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep(lineno: int) -> str:
    return (
        f"line {lineno} has a field nesting lists or objects more than {MAX_JSON_DEPTH} levels deep; "
        "flatten the record to index it"
    )


def _parse_json_line(raw: bytes, lineno: int) -> tuple[Any, str] | str:
    """The parsed line and its encoding, or why it is skipped (bad JSON, bad bytes, nested too deep)."""
    encoding = "utf-8"
    try:
        try:
            record = json.loads(raw)
        except UnicodeDecodeError:
            decoded = _decode(raw)
            if isinstance(decoded, str):
                return f"line {lineno}: {decoded}"
            line, encoding = decoded
            record = json.loads(line)
    except RecursionError:
        return _too_deep(lineno)
    except ValueError as err:
        return f"line {lineno} is not valid JSON ({err})"
    if _json_depth(record) > MAX_JSON_DEPTH + 1:  # the record itself is one level
        return _too_deep(lineno)
    return record, encoding


def _jsonl_record(
    path: Path, file_id: str, lineno: int, raw: bytes, max_file_bytes: int, seen: _Seen
) -> Document | SkippedSource:
    source = f"{path}:{lineno}"
    if len(raw) > max_file_bytes:
        return SkippedSource(source, _too_large(len(raw), max_file_bytes, f"line {lineno}"))
    parsed = _parse_json_line(raw, lineno)
    if isinstance(parsed, str):
        return SkippedSource(source, parsed)
    record, encoding = parsed
    if not isinstance(record, dict):
        return SkippedSource(source, f"line {lineno} is a JSON {type(record).__name__}, not an object")
    doc_id = _record_id(record, default=f"{file_id}:{lineno}")
    if doc_id is None:
        return SkippedSource(source, f"line {lineno}: '_id'/'id' must be a non-empty string or an integer")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        fields = ", ".join(record) or "none"
        return SkippedSource(
            source, f"line {lineno}: record {doc_id!r} has no text (a non-empty 'text' field; fields: {fields})"
        )
    text = _clean_text(text)
    digest = content_hash(text)
    duplicate = seen.check(doc_id, digest)
    if duplicate:
        return SkippedSource(source, f"line {lineno}: {duplicate}")
    title = record.get("title")
    if isinstance(title, str) and title.strip():
        title = _clean_text(title.strip())
    else:
        title = leading_heading(text) or doc_id
    id_field = "_id" if "_id" in record else "id"
    metadata = {key: value for key, value in record.items() if key not in ("text", "title", id_field)}
    metadata.update(source_path=str(path), source_line=lineno, format="jsonl", encoding=encoding)
    metadata.update(formats_dates.published(record, text))
    document = Document(doc_id, title, text, metadata, source, digest)
    seen.add(document)
    return document


@dataclass(frozen=True)
class _WalkRules:
    """What the walk may enter: the resolved source roots, and whether links may leave them."""

    roots: tuple[Path, ...]
    follow_links: bool

    def leaves_roots(self, path: Path) -> Path | None:
        """The target of link ``path`` when it lies outside every source root (and links may not leave)."""
        if self.follow_links:
            return None
        target = path.resolve()
        if any(target == root or target.is_relative_to(root) for root in self.roots):
            return None
        return target


def _walk(root: Path, rules: _WalkRules) -> Iterator[tuple[Path, str] | SkippedSource]:
    """Files under ``root`` with their ids (relative POSIX paths), in path order.

    Symbolic links are followed within the source roots; one that leads outside them is reported and left out
    unless ``rules.follow_links``, and one to a folder already searched (a loop, or the same files twice) is
    never followed. Hidden files and folders (name starting with ".") are left out.
    """
    return _walk_folder(root, "", {_dir_key(root)}, rules)


def _walk_folder(
    folder: Path, prefix: str, visited: set[tuple[int, int]], rules: _WalkRules
) -> Iterator[tuple[Path, str] | SkippedSource]:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as err:
        yield SkippedSource(str(folder), _read_error(err))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path, rel = Path(entry.path), f"{prefix}{entry.name}"
        kind = _entry_kind(entry, path, rules)
        if isinstance(kind, SkippedSource):
            yield kind
        elif kind == "folder":
            key = _dir_key(path)
            if key in visited:
                yield SkippedSource(
                    str(path), "symbolic link to a folder already searched (a loop or a repeat); not followed"
                )
                continue
            visited.add(key)
            yield from _walk_folder(path, f"{rel}/", visited, rules)
        elif kind == "file":
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield path, rel
            else:
                yield SkippedSource(str(path), _unsupported(path))
        else:
            yield SkippedSource(str(path), "not a regular file")


def _entry_kind(entry: os.DirEntry[str], path: Path, rules: _WalkRules) -> str | SkippedSource:
    """"folder", "file" or "other", or why the entry (a bad or outward link, an unreadable one) is skipped."""
    try:
        is_dir, is_file = entry.is_dir(), entry.is_file()
        if entry.is_symlink():
            path.stat()  # raises for a loop or a missing target
            outside = rules.leaves_roots(path)
            if outside is not None:
                return SkippedSource(
                    str(path),
                    f"symbolic link to {outside}, outside the source folders; not followed "
                    "(pass --follow-links to index what links point to)",
                )
        if is_dir:
            _dir_key(path)
    except OSError as err:
        if err.errno == errno.ELOOP:
            return SkippedSource(str(path), "symbolic link loop; not followed")
        if isinstance(err, FileNotFoundError):
            return SkippedSource(str(path), "broken symbolic link: its target does not exist")
        return SkippedSource(str(path), _read_error(err))
    return "folder" if is_dir else "file" if is_file else "other"


def _dir_key(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_dev, stat.st_ino


def _unsupported(path: Path) -> str:
    return f"unsupported file type {path.suffix or '(no suffix)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}"


def _check_sources(sources: Sequence[Path]) -> list[Path]:
    paths = [Path(source) for source in sources]
    for path in paths:
        if path.exists():
            continue
        if os.path.lexists(path):
            raise SourceNotFoundError(
                f"Source {str(path)!r} is a broken symbolic link or a symbolic link loop; point it at a real "
                "file or folder"
            )
        raise SourceNotFoundError(
            f"Source {str(path)!r} does not exist (relative paths start from {os.getcwd()}); check the path"
        )
    return paths


def iter_documents(
    sources: Sequence[Path], max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, *, follow_links: bool = False
) -> Iterator[Document | SkippedSource]:
    """Stream documents, and skipped sources as they are met, from files and folders.

    Raises:
        SourceNotFoundError: At once, before anything is read, when a source path does not exist.
    """
    paths = _check_sources(sources)
    rules = _WalkRules(tuple(path.resolve() for path in paths), follow_links)
    return _iter_documents(paths, max_file_bytes, rules)


def _iter_documents(
    paths: Sequence[Path], max_file_bytes: int, rules: _WalkRules
) -> Iterator[Document | SkippedSource]:
    seen = _Seen()
    for source in paths:
        if source.is_dir():
            files: Iterator[tuple[Path, str] | SkippedSource] = _walk(source, rules)
        elif source.suffix.lower() in SUPPORTED_SUFFIXES:
            files = iter([(source, source.name)])
        else:
            files = iter([SkippedSource(str(source), _unsupported(source))])
        for item in files:
            if isinstance(item, SkippedSource):
                yield item
                continue
            path, doc_id = item
            if path.suffix.lower() == ".jsonl":
                yield from _jsonl_file(path, doc_id, max_file_bytes, seen)
            else:
                yield from _text_file(path, doc_id, max_file_bytes, seen)


def load_documents(
    sources: Sequence[Path], max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, *, follow_links: bool = False
) -> LoadedDocuments:
    """Load every document under the sources (files, or folders searched recursively).

    Args:
        sources: Files or folders of ``.txt``, ``.md`` and ``.jsonl`` (one JSON object a line with ``_id`` or
            ``id``, ``text`` and optional ``title``; other fields go to ``metadata``).
        max_file_bytes: Larger text files and JSONL records are skipped with a reason.
        follow_links: Also index what symbolic links outside the source roots point to (refused by default,
            so a link cannot publish a file from elsewhere on the machine).

    Returns:
        The documents in source order (folders in name order) and what was skipped, with reasons.

    Raises:
        SourceNotFoundError: A source path does not exist.
        NoDocumentsError: Nothing could be loaded.
    """
    documents: list[Document] = []
    skipped: list[SkippedSource] = []
    for item in iter_documents(sources, max_file_bytes, follow_links=follow_links):
        if isinstance(item, Document):
            documents.append(item)
        else:
            skipped.append(item)
    if not documents:
        raise NoDocumentsError(_no_documents_message(sources, skipped), skipped)
    return LoadedDocuments(documents, skipped)


def _no_documents_message(sources: Sequence[Path], skipped: Sequence[SkippedSource]) -> str:
    if not sources:
        return "No sources given; pass at least one file or folder of .txt, .md or .jsonl documents"
    searched = ", ".join(printable(repr(str(source))) for source in sources)
    message = f"No documents found in {searched} (searched for {', '.join(SUPPORTED_SUFFIXES)} files)"
    if skipped:
        shown = "; ".join(f"{printable(item.source)}: {printable(item.reason)}" for item in skipped[:3])
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        message += f"; {len(skipped)} skipped ({shown}{more})"
    return message + ". Add documents there or pass other sources."
