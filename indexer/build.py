"""The build pipeline: documents -> passages -> entities and statements -> embeddings -> a published index.

A build re-embeds only documents that are new or changed since the published build (matched by content
hash), drops removed ones and copies the rest; `full=True` redoes everything.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer.attribution import attribute_statements
from indexer.database import (
    PassageRow,
    create_database,
    delete_documents,
    document_hashes,
    insert_documents,
    insert_passages,
    lexical_documents,
    lexical_rows,
    open_for_update,
)
from indexer.documents import DEFAULT_MAX_FILE_BYTES, Document, LoadedDocuments, SkippedSource, load_documents
from indexer.embedding import Embedder
from indexer.entities import EntityResolver
from indexer.formats import decoding_notes
from indexer.formats.pages import page_of
from indexer.index_dir import (
    DATABASE,
    FAISS_FILE,
    LEXICAL,
    MANIFEST,
    IndexStoreError,
    build_lock,
    build_sources,
    new_build_dir,
    publish,
    removed_ids,
    resolve_build,
)
from indexer.lexical import LEXICAL_VERSION, write_lexical_index
from indexer.local_store import load_vectors, save_vectors
from indexer.manifest import FORMAT_VERSION, REUSABLE_FORMATS, Manifest
from indexer.passages import Passage, split_document
from indexer.sentence_vectors import SentenceRows, build_sentence_rows
from indexer.stage import PassageStage, ReusableVectors, StageInput, embedding_text
from indexer.stage import reusable_vectors as _reusable_vectors
from indexer.stage import text_key as _text_key
from indexer.vector_index import VectorIndexInfo, build_vector_index, save_vector_index

Log = Callable[[str], None]
TITLE_TOKEN_ALLOWANCE = 96  # tokens kept free for a title of TITLE_WORDS words
# Bump when splitting-independent analysis (entities, statements) changes: the next build re-analyses every
# document, re-embedding only passages whose embedding text changed. 8: documents' `published` and passages'
# `page` columns (an old index gains them at its next build without re-embedding) and the attribution rules of 7.
# 9: a quote mark left open as a paragraph's last character no longer shifts the rest of the masked text, and
# "Latin America(n)" and "Pan American" are no mentions of the United States.
ANALYSIS_VERSION = 15


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the summary line and the benchmarks."""

    index_dir: Path
    build_dir: Path | None
    documents: int
    passages: int
    embedded_documents: int
    embedded_passages: int
    reused_documents: int
    removed_documents: int
    skipped: list[SkippedSource]
    seconds: float
    words: int
    up_to_date: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    reused_passages: int = 0
    embedded_sentences: int = 0

    @property
    def passages_per_s(self) -> float:
        return self.embedded_passages / self.seconds if self.seconds else 0.0

    @property
    def words_per_s(self) -> float:
        return self.words / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class _Written:
    """What `_write_build` put in a build folder."""

    documents: int
    passages: int
    embedded_documents: int
    embedded_passages: int
    reused_passages: int
    reused_documents: int
    removed_documents: int
    words: int
    vector_index: VectorIndexInfo
    embedded_sentences: int = 0


def passage_settings(embedder: Embedder, max_tokens: int, min_tokens: int = 0) -> dict[str, Any]:
    """The settings that decide passage boundaries and vectors: a change forces a full rebuild.

    The document title is embedded in front of each passage only when a title of up to `TITLE_WORDS` words
    still fits beside a full passage within the model's sequence length, so nothing is truncated silently.
    """
    limit = min(max_tokens, embedder.max_seq_length)
    embed_title = limit + TITLE_TOKEN_ALLOWANCE <= embedder.max_seq_length
    return {"max_tokens": limit, "min_tokens": min(min_tokens, limit), "splitter": 1, "embed_title": embed_title}


def sources_checksum(documents: Sequence[Document]) -> str:
    digest = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.doc_id):
        digest.update(doc.doc_id.encode("utf-8", "surrogatepass") + b"\0" + doc.content_hash.encode() + b"\n")
    return digest.hexdigest()


def build_index(
    sources: Sequence[Path],
    index_dir: Path,
    embedder: Embedder,
    *,
    max_tokens: int = 128,
    min_tokens: int = 0,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    index_kind: str = "auto",
    full: bool = False,
    wait_s: float = 0.0,
    progress: bool = False,
    log: Log = lambda message: None,
    follow_links: bool = False,
    passages: PassageStage | None = None,
) -> BuildReport:
    """Build (or update) the index of `sources` in `index_dir` and publish it atomically.

    Raises:
        NoDocumentsError / SourceNotFoundError: nothing to index; the published index is untouched.
        BuildLockedError: another build holds `index_dir` for longer than `wait_s`.

    `passages` replaces the in-process splitting, analysis and embedding (a distributed build); everything
    else (incremental reuse, the database, vectors, indexes, the atomic publish) stays here.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    with build_lock(index_dir, wait_s=wait_s):
        loaded, documents = _load(index_dir, sources, max_file_bytes, follow_links, timings, log)
        settings = passage_settings(embedder, max_tokens, min_tokens)
        checksum = sources_checksum(documents)
        previous = None if full else _compatible_previous(index_dir, embedder, settings, log)
        if previous is not None and _up_to_date(previous[1], checksum):
            log(f"index {index_dir} is up to date with its {len(documents)} documents; nothing to do")
            manifest = previous[1]
            return BuildReport(
                index_dir, previous[0], manifest.documents, manifest.passages, 0, 0, manifest.documents, 0,
                loaded.skipped, time.perf_counter() - started, 0, up_to_date=True, timings=timings,
            )

        report, final_dir = publish_build(
            index_dir, documents, previous, embedder, settings, index_kind=index_kind, checksum=checksum,
            skipped=len(loaded.skipped), sources=sources, started=started, log=log, stage=passages,
            progress=progress, timings=timings,
        )
    return BuildReport(
        index_dir=index_dir, build_dir=final_dir, documents=report.documents, passages=report.passages,
        embedded_documents=report.embedded_documents, embedded_passages=report.embedded_passages,
        reused_documents=report.reused_documents, removed_documents=report.removed_documents,
        skipped=loaded.skipped, seconds=time.perf_counter() - started, words=report.words, timings=timings,
        reused_passages=report.reused_passages, embedded_sentences=report.embedded_sentences,
    )


def publish_build(
    index_dir: Path, documents: Sequence[Document], previous: tuple[Path, Manifest] | None, embedder: Embedder,
    settings: dict[str, Any], *, index_kind: str, checksum: str, skipped: int, sources: Sequence[Path],
    started: float, log: Log, stage: PassageStage | None = None, progress: bool = False,
    timings: dict[str, float] | None = None,
) -> tuple[_Written, Path]:
    """Write a build of `documents` (reusing `previous`) with its manifest and publish it atomically.

    The caller holds the build lock. A failure removes the unfinished build and leaves the published one as it was.
    """
    build_dir = new_build_dir(index_dir)
    try:
        plan = _Plan(documents, previous, embedder, settings, log)
        written = _write_build(
            build_dir, plan, index_kind, progress, {} if timings is None else timings, stage or local_passages
        )
        manifest = _manifest(embedder, written, checksum, settings, skipped, sources, started)
        (build_dir / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        return written, publish(index_dir, build_dir)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise


def _up_to_date(manifest: Manifest, checksum: str) -> bool:
    """The published build holds exactly these sources, analysed and indexed by this version of seedsearch."""
    return (
        manifest.sources_checksum == checksum
        and manifest.analysis_version == ANALYSIS_VERSION
        and manifest.format_version == FORMAT_VERSION
        and manifest.lexical_version == LEXICAL_VERSION
    )


def _manifest(
    embedder: Embedder,
    written: _Written,
    checksum: str,
    settings: dict[str, Any],
    skipped: int,
    sources: Sequence[Path],
    started: float,
) -> Manifest:
    return Manifest(
        model_id=embedder.model_id,
        dimension=embedder.dimension,
        documents=written.documents,
        passages=written.passages,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        sources_checksum=checksum,
        analysis_version=ANALYSIS_VERSION,
        lexical_version=LEXICAL_VERSION,
        passage_settings=settings,
        vector_index=written.vector_index,
        backend=embedder.backend,
        build_seconds=round(time.perf_counter() - started, 3),
        skipped=skipped,
        extra={"sources": [str(s) for s in sources]},
    )


def _load(
    index_dir: Path, sources: Sequence[Path], max_file_bytes: int, follow_links: bool, timings: dict[str, float],
    log: Log,
) -> tuple[LoadedDocuments, list[Document]]:
    """The sources' documents with those added while serving (`indexer.changes`), less those removed since."""
    tick = time.perf_counter()
    read_from = build_sources(index_dir, sources)
    loaded = load_documents(read_from, max_file_bytes=max_file_bytes, follow_links=follow_links)
    removed = removed_ids(index_dir)
    documents = [doc for doc in loaded.documents if doc.doc_id not in removed]
    timings["load"] = time.perf_counter() - tick
    for note in decoding_notes(documents):
        log(note)
    return loaded, documents


def _compatible_previous(
    index_dir: Path, embedder: Embedder, settings: dict[str, Any], log: Log
) -> tuple[Path, Manifest] | None:
    """The published build when it can be updated in place of a full rebuild."""
    try:
        build_dir = resolve_build(index_dir)
        manifest = Manifest.read(build_dir, formats=REUSABLE_FORMATS)
    except IndexStoreError:
        return None
    if (
        manifest.model_id != embedder.model_id
        or manifest.dimension != embedder.dimension
        or manifest.passage_settings != settings
    ):
        log("the published index was built with other settings or another model: rebuilding everything")
        return None
    try:  # an update copies the database and the vectors: a damaged published build is rebuilt instead
        document_hashes(build_dir / DATABASE)
        load_vectors(build_dir, dimension=manifest.dimension, count=manifest.passages)
    except IndexStoreError as err:
        log(f"the published index cannot be updated ({err}): rebuilding everything")
        return None
    return build_dir, manifest


@dataclass
class _Start:
    """What a build starts from: its open database, the documents to (re)process and the previous vectors."""

    conn: sqlite3.Connection
    to_process: list[Document]
    removed_ids: list[int]
    removed_documents: int
    old_vectors: npt.NDArray[np.float32]
    old_ids: npt.NDArray[np.int64]
    reusable: dict[bytes, int]


@dataclass(frozen=True)
class _Plan:
    """What a build is asked to write: the documents, the build it may reuse, the encoder and passage settings."""

    documents: Sequence[Document]
    previous: tuple[Path, Manifest] | None
    embedder: Embedder
    settings: dict[str, Any]
    log: Log


def _start(build_dir: Path, plan: _Plan) -> _Start:
    """A new database, or a copy of the previous build's without the documents that changed or went away."""
    documents, previous, embedder, settings, log = plan.documents, plan.previous, plan.embedder, plan.settings, plan.log
    if previous is None:
        empty_vectors = np.zeros((0, embedder.dimension), dtype=np.float32)
        empty_ids = np.zeros(0, dtype=np.int64)
        return _Start(create_database(build_dir / DATABASE), list(documents), [], 0, empty_vectors, empty_ids, {})
    by_id = {doc.doc_id: doc for doc in documents}
    old_dir, old_manifest = previous
    old_hashes = document_hashes(old_dir / DATABASE)
    reanalyse = old_manifest.analysis_version != ANALYSIS_VERSION or old_manifest.format_version != FORMAT_VERSION
    changed = [d for d, h in old_hashes.items() if reanalyse or d not in by_id or by_id[d].content_hash != h]
    removed_documents = sum(1 for d in old_hashes if d not in by_id)
    to_process = [doc for doc in documents if reanalyse or old_hashes.get(doc.doc_id) != doc.content_hash]
    old_vectors, old_ids = load_vectors(old_dir, dimension=old_manifest.dimension, count=old_manifest.passages)
    if reanalyse:  # nothing of the old database is kept: start a new one rather than delete every row
        conn = create_database(build_dir / DATABASE)
        removed_ids = [int(i) for i in old_ids]
        log(f"the published index was analysed by an older seedsearch: re-analysing all {len(documents)} "
            "documents, re-embedding only passages whose text changed")
    else:
        shutil.copyfile(old_dir / DATABASE, build_dir / DATABASE)
        conn = open_for_update(build_dir / DATABASE)
        removed_ids = delete_documents(conn, changed)
    reusable = _reusable_vectors(old_dir / DATABASE, old_ids, changed, settings["embed_title"])
    log(
        f"updating: {len(to_process)} new or changed documents, {removed_documents} removed, "
        f"{len(documents) - len(to_process)} unchanged"
    )
    return _Start(conn, to_process, removed_ids, removed_documents, old_vectors, old_ids, reusable)


def _split_and_analyse(
    documents: Sequence[Document],
    embedder: Embedder,
    settings: dict[str, Any],
    first_id: int,
    resolver: EntityResolver,
    timings: dict[str, float],
) -> tuple[list[PassageRow], list[str]]:
    """Passages of each document with their entities and statements, and the text each is embedded as."""
    tick = time.perf_counter()
    passages_by_doc = [
        split_document(doc, embedder.count_tokens, settings["max_tokens"], settings["min_tokens"]) for doc in documents
    ]
    timings["passages"] = time.perf_counter() - tick
    tick = time.perf_counter()
    rows: list[PassageRow] = []
    embed_texts: list[str] = []
    for doc, passages in zip(documents, passages_by_doc, strict=True):
        rows.extend(_analyse(doc, passages, resolver, first_id + len(rows)))
        embed_texts.extend(_embedding_text(doc, p, settings["embed_title"]) for p in passages)
    timings["analysis"] = time.perf_counter() - tick
    return rows, embed_texts


def _write_build(
    build_dir: Path, plan: _Plan, index_kind: str, progress: bool, timings: dict[str, float], stage: PassageStage
) -> _Written:
    start = _start(build_dir, plan)
    documents, embedder, settings = plan.documents, plan.embedder, plan.settings
    resolver = EntityResolver.default()
    first_id = int(start.old_ids.max()) + 1 if start.old_ids.size else 1
    reuse = ReusableVectors(start.reusable, start.old_vectors)
    rows, new_vectors, reused_passages = stage(
        StageInput(start.to_process, embedder, settings, first_id, resolver, reuse, progress, timings)
    )

    tick = time.perf_counter()
    conn = start.conn
    try:
        insert_documents(
            conn, ((d.doc_id, d.title, d.text, dict(d.metadata), d.source, d.content_hash) for d in start.to_process)
        )
        insert_passages(conn, rows)
        conn.commit()
        documents_count = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        passages_count = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        timings["store"] = time.perf_counter() - tick
        tick = time.perf_counter()
        _write_lexical(conn, build_dir, resolver)
        timings["lexical"] = time.perf_counter() - tick
    finally:
        conn.close()

    tick = time.perf_counter()
    vectors, ids = _all_vectors(start, new_vectors, rows, passages_count)
    save_vectors(build_dir, vectors, ids)
    timings["store"] += time.perf_counter() - tick

    tick = time.perf_counter()
    embedded_sentences = _write_sentences(build_dir, plan, start, rows, progress)
    timings["sentences"] = time.perf_counter() - tick

    tick = time.perf_counter()
    index, info = build_vector_index(vectors, ids, kind=index_kind)  # type: ignore[arg-type]
    save_vector_index(index, build_dir / FAISS_FILE)
    timings["vector_index"] = time.perf_counter() - tick
    return _Written(
        documents=documents_count,
        passages=passages_count,
        embedded_documents=len(start.to_process),
        embedded_passages=len(rows) - reused_passages,
        reused_passages=reused_passages,
        reused_documents=len(documents) - len(start.to_process),
        removed_documents=start.removed_documents,
        words=sum(len(doc.text.split()) for doc in start.to_process),
        vector_index=info,
        embedded_sentences=embedded_sentences,
    )


def _write_sentences(build_dir: Path, plan: _Plan, start: _Start, rows: Sequence[PassageRow], progress: bool) -> int:
    """The sentence vectors of the build: the previous build's for kept passages, new ones for the rest (a
    sentence whose text was embedded before keeps its vector). Returns how many sentences were embedded."""
    dimension = plan.embedder.dimension
    previous = SentenceRows.load(plan.previous[0], dimension) if plan.previous is not None else None
    kept = previous.without(start.removed_ids) if previous is not None else SentenceRows.empty(dimension)
    titles = {doc.doc_id: doc.title for doc in start.to_process}
    new, embedded = build_sentence_rows(
        ((r.id, r.passage.doc_id, titles[r.passage.doc_id], r.passage.text) for r in rows),
        plan.embedder,
        plan.settings["embed_title"],
        previous,
        progress,
    )
    kept.then(new).save(build_dir)
    return embedded


def local_passages(job: StageInput) -> tuple[list[PassageRow], npt.NDArray[np.float32], int]:
    """The passage stage of a local build: split, analyse and embed in this process."""
    rows, embed_texts = _split_and_analyse(
        job.documents, job.embedder, job.settings, job.first_id, job.resolver, job.timings
    )
    tick = time.perf_counter()
    vectors, reused = _embed_or_reuse(job.embedder, embed_texts, job.reuse.rows, job.reuse.vectors, job.progress)
    job.timings["embedding"] = time.perf_counter() - tick
    return rows, vectors, reused


def _all_vectors(
    start: _Start, new_vectors: npt.NDArray[np.float32], rows: Sequence[PassageRow], passages_count: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """The kept vectors of the previous build followed by the new ones, with their passage ids."""
    keep = ~np.isin(start.old_ids, np.asarray(start.removed_ids, dtype=np.int64))
    vectors = np.concatenate([np.asarray(start.old_vectors[keep], dtype=np.float32), new_vectors])
    ids = np.concatenate([start.old_ids[keep], np.asarray([r.id for r in rows], dtype=np.int64)])
    if vectors.shape[0] != passages_count:
        raise sqlite3.DatabaseError(
            f"internal error: {vectors.shape[0]} vectors for {passages_count} passages; rebuild with --full"
        )
    return vectors, ids


def _write_lexical(conn: sqlite3.Connection, build_dir: Path, resolver: EntityResolver) -> None:
    """The lexical index of every passage and document in the database, written into the build folder."""

    def entity_name(entity_id: str) -> str:
        try:
            return resolver.get(entity_id).name
        except KeyError:
            return ""

    write_lexical_index(build_dir / LEXICAL, list(lexical_rows(conn, entity_name)), lexical_documents(conn))


def _embedding_text(doc: Document, passage: Passage, embed_title: bool) -> str:
    return embedding_text(doc.title, doc.doc_id, passage.text, embed_title)


def _embed_or_reuse(
    embedder: Embedder, texts: Sequence[str], reusable: dict[bytes, int], old_vectors: np.ndarray, progress: bool
) -> tuple[np.ndarray, int]:
    """Vectors for `texts`: copied from the previous build where the same text was embedded, else encoded."""
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    rows = [reusable.get(_text_key(t), -1) for t in texts]
    missing = [i for i, row in enumerate(rows) if row < 0]
    if missing:
        vectors[missing] = embedder.encode_passages([texts[i] for i in missing], progress=progress)
    found = [i for i, row in enumerate(rows) if row >= 0]
    if found:
        vectors[found] = np.asarray(old_vectors[[rows[i] for i in found]], dtype=np.float32)
    return vectors, len(found)


def _analyse(doc: Document, passages: Sequence[Passage], resolver: EntityResolver, first_id: int) -> list[PassageRow]:
    """Attach entities and attributed statements to each passage of one document."""
    mentions = resolver.find(doc.text)
    # An undated story is read as current news: its "shadow" ministers sit in today's opposition.
    published = doc.metadata.get("published") or datetime.now(UTC).date().isoformat()
    statements = attribute_statements(doc.text, resolver, published)
    rows = []
    for offset, passage in enumerate(passages):
        inside = [m for m in mentions if m.start < passage.end and m.end > passage.start]
        said = [s for s in statements if s.start < passage.end and s.end > passage.start]
        entity_ids = list(dict.fromkeys([m.entity.id for m in inside] + [a for s in said for a in s.affiliations]))
        names = [resolver.get(e).name for e in entity_ids]
        rows.append(
            PassageRow(
                id=first_id + offset,
                passage=passage,
                entities=entity_ids,
                entity_names=names,
                statements=[s.to_dict() for s in said],
                title=doc.title,
                page=page_of(doc.metadata, passage.start),
            )
        )
    return rows
