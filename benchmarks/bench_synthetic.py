"""Query latency on a synthetic 1M-passage index generated from the Reuters index (issue 16).

Generation (once; the index is reused when present): the Reuters index's passages are copied until there are
`--passages` of them (1,000,000 by default; whole documents, so the last copy is partial). Copy 0 is the
original; every other copy is a new document per source document whose passages have, at word level, ~12% of
their words replaced by words drawn from the whole collection (so at the collection's own frequencies) and ~5%
dropped, with the source passage's entities and statements, and a vector that is the source vector plus
Gaussian noise (sigma 0.02 per dimension, cosine ~0.93 to it), normalised again. Nothing is embedded. The index
is written with the product's own writers (`indexer.database`, `indexer.lexical.write_lexical_index`,
`indexer.vector_index.build_vector_index` with the kind it picks at that size, the manifest) into a build
folder published like a real build, so `seedsearch serve --index DIR` opens it.

Measured: in-process `SearchEngine.search` per mode (lexical, dense, hybrid, hybrid for the questions naming a
party) over the 40 Reuters development questions, p50/p99, and with `--http` the server's `took_ms`.

    python -m benchmarks.bench_synthetic --index /work/synthetic-1m [--passages 1000000] [--http] [--out FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks import Section, Table, Target, percentile, report
from benchmarks.bench_collection import DEV_QUESTIONS, INDEX_ENV, dev_questions

SYNTHETIC_ENV = "SEEDSEARCH_BENCH_SYNTHETIC_INDEX"
DEFAULT_PASSAGES = 1_000_000
REPLACED = 0.12
DROPPED = 0.05
NOISE = 0.02
#: Passage ids of copy c are c * ID_STRIDE + the source id (Reuters ids are far below it).
ID_STRIDE = 10_000_000
ROUNDS = 3
Log = Callable[[str], None]


# --------------------------------------------------------------------------- generation


class _Source:
    """The source index's passages (in document order) as word ids, with their documents and vectors."""

    def __init__(self, build_dir: Path) -> None:
        conn = sqlite3.connect(f"file:{build_dir / 'passages.sqlite'}?mode=ro", uri=True)
        try:
            self.documents = {
                str(d): (str(t), json.loads(m), str(s))
                for d, t, m, s in conn.execute("SELECT doc_id, title, metadata, source FROM documents")
            }
            self.rows = conn.execute(
                "SELECT id, doc_id, position, section, text, entities, statements FROM passages"
                " ORDER BY doc_id, position"
            ).fetchall()
        finally:
            conn.close()
        vocabulary: dict[str, int] = {}
        words = [[vocabulary.setdefault(w, len(vocabulary)) for w in row[4].split()] for row in self.rows]
        self.vocabulary = np.asarray(list(vocabulary), dtype=object)
        self.starts = np.cumsum([0] + [len(w) for w in words])
        self.words = np.fromiter((w for ws in words for w in ws), dtype=np.int64, count=int(self.starts[-1]))
        vectors = np.load(build_dir / "vectors.npy", mmap_mode="r")
        row_of = {int(i): r for r, i in enumerate(np.load(build_dir / "ids.npy"))}
        self.vector_rows = np.asarray([row_of[int(row[0])] for row in self.rows], dtype=np.int64)
        self.vectors = vectors

    def texts(self, copy: int, seed: int) -> list[str]:
        """Every passage's text in copy `copy`: the original for copy 0, perturbed words otherwise."""
        if copy == 0:
            return [str(row[4]) for row in self.rows]
        rng = np.random.default_rng(seed + copy)
        draw = rng.random(len(self.words))
        words = np.where(draw < REPLACED, self.words[rng.integers(0, len(self.words), len(self.words))], self.words)
        kept = draw < 1 - DROPPED
        texts = []
        for start, end in zip(self.starts[:-1], self.starts[1:], strict=True):
            chosen = words[start:end][kept[start:end]]
            texts.append(" ".join(self.vocabulary[chosen].tolist()) or "empty")
        return texts

    def copy_vectors(self, copy: int, seed: int, count: int) -> npt.NDArray[np.float32]:
        """The first `count` passages' vectors in copy `copy`: the source's, plus noise after copy 0."""
        vectors = np.asarray(self.vectors[self.vector_rows[:count]], dtype=np.float32)
        if copy:
            rng = np.random.default_rng(10_000 + seed + copy)
            vectors += rng.normal(0.0, NOISE, vectors.shape).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors


def _copy_rows(source: _Source, copy: int, seed: int, limit: int) -> Iterator[tuple[Any, ...]]:
    """(document row, passage rows) per source document, for at most `limit` passages (whole documents)."""
    from indexer.database import PassageRow
    from indexer.passages import Passage

    texts = source.texts(copy, seed)
    suffix = f"~{copy}" if copy else ""
    taken = 0
    index = 0
    while index < len(source.rows):
        doc_id = source.rows[index][1]
        end = index
        while end < len(source.rows) and source.rows[end][1] == doc_id:
            end += 1
        if taken + end - index > limit:
            return
        body, rows, offset = [], [], 0
        for row, text in zip(source.rows[index:end], texts[index:end], strict=True):
            pid, _, position, section, _, entities, statements = row
            passage = Passage(doc_id + suffix, position, section, offset, offset + len(text), text)
            rows.append(PassageRow(copy * ID_STRIDE + pid, passage, json.loads(entities), (), json.loads(statements)))
            body.append(text)
            offset += len(text) + 2
        title, metadata, src = source.documents[doc_id]
        text = "\n\n".join(body)
        document = (doc_id + suffix, title, text, metadata, src, hashlib.sha256(text.encode()).hexdigest())
        yield document, rows
        taken += end - index
        index = end


def generate(source_index: Path, index_dir: Path, passages: int, seed: int, log: Log) -> dict[str, float]:
    """Write the synthetic index into `index_dir` and publish it; seconds per phase."""
    from benchmarks.bench_collection import lexical_inputs
    from indexer.database import create_database, insert_documents, insert_passages
    from indexer.index_dir import DATABASE, FAISS_FILE, LEXICAL, MANIFEST, new_build_dir, publish, resolve_build
    from indexer.lexical import LEXICAL_VERSION, write_lexical_index
    from indexer.local_store import save_vectors
    from indexer.manifest import Manifest
    from indexer.vector_index import build_vector_index, save_vector_index

    seconds: dict[str, float] = {}
    started = tick = time.perf_counter()
    source_dir = resolve_build(source_index)
    source_manifest = Manifest.read(source_dir)
    source = _Source(source_dir)
    seconds["read source"] = time.perf_counter() - tick
    build_dir = new_build_dir(index_dir)
    conn = create_database(build_dir / DATABASE)
    vectors = np.empty((passages, source_manifest.dimension), dtype=np.float32)
    ids = np.empty(passages, dtype=np.int64)
    written, documents, copy = 0, 0, 0
    tick = time.perf_counter()
    while written < passages:
        log(f"synthetic: copy {copy} ({written:,} of {passages:,} passages written)")
        count = 0
        for document, rows in _copy_rows(source, copy, seed, passages - written):
            insert_documents(conn, [document])
            insert_passages(conn, rows)
            ids[written + count : written + count + len(rows)] = [r.id for r in rows]
            count += len(rows)
            documents += 1
        if count == 0:
            break
        vectors[written : written + count] = source.copy_vectors(copy, seed, count)
        written += count
        copy += 1
    conn.commit()
    vectors, ids = vectors[:written], ids[:written]
    seconds["passages and documents (SQLite)"] = time.perf_counter() - tick
    tick = time.perf_counter()
    log("synthetic: lexical index")
    rows, lexical_docs = lexical_inputs(conn)
    write_lexical_index(build_dir / LEXICAL, rows, lexical_docs)
    conn.close()
    del rows, lexical_docs
    seconds["lexical index"] = time.perf_counter() - tick
    tick = time.perf_counter()
    log(f"synthetic: vectors and the vector index over {written:,} vectors")
    save_vectors(build_dir, vectors, ids)
    index, info = build_vector_index(vectors, ids)
    save_vector_index(index, build_dir / FAISS_FILE)
    del index
    seconds["vector index"] = time.perf_counter() - tick
    manifest = source_manifest.model_copy(update={
        "documents": documents, "passages": written, "vector_index": info, "lexical_version": LEXICAL_VERSION,
        "build_seconds": round(time.perf_counter() - started, 3),
        "extra": {"synthetic": {"source": str(source_dir), "copies": copy, "seed": seed, "seconds": seconds}},
    })
    (build_dir / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    publish(index_dir, build_dir)
    seconds["total"] = time.perf_counter() - started
    return seconds


# --------------------------------------------------------------------------- measuring


def in_process(index_dir: Path, rounds: int) -> dict[str, list[float]]:
    """`SearchEngine.search` wall ms per path over the development questions, `rounds` times."""
    from indexer.embedding import load_embedder
    from indexer.local_store import LocalStore
    from indexer.settings import EncoderSettings
    from search_api.engine import SearchEngine
    from search_api.fusion import SearchOptions
    from search_api.settings import SearchSettings

    settings = EncoderSettings()
    embedder = load_embedder(
        settings.model, backend=settings.backend, device=settings.device, cache_dir=settings.cache_dir
    )
    store = LocalStore(index_dir)
    engine = SearchEngine(store, embedder, SearchOptions.from_settings(SearchSettings()))
    asked = dev_questions()
    found: dict[str, list[float]] = {m: [] for m in ("lexical", "dense", "hybrid", "hybrid, party named")}
    try:
        for mode in ("lexical", "dense", "hybrid"):
            for question, _ in asked:  # warm-up: every posting list and graph page touched once
                engine.search(question, k=5, mode=mode)  # type: ignore[arg-type]
            for _ in range(rounds):
                for question, party in asked:
                    tick = time.perf_counter()
                    engine.search(question, k=5, mode=mode)  # type: ignore[arg-type]
                    ms = (time.perf_counter() - tick) * 1000
                    found[mode].append(ms)
                    if mode == "hybrid" and party:
                        found["hybrid, party named"].append(ms)
    finally:
        store.close()
    return found


def http_took_ms(index_dir: Path, rounds: int, log: Log) -> dict[str, list[float]]:
    """Server `took_ms` per mode over the development questions."""
    import tempfile

    from benchmarks.bench_collection import http_took_ms as collection_http

    with tempfile.TemporaryDirectory(prefix="seedsearch-bench-synthetic-") as workdir:
        return collection_http(index_dir, Path(workdir), rounds, log)


def section(
    index_dir: Path,
    build: dict[str, Any],
    local: dict[str, list[float]],
    http: dict[str, list[float]] | None,
    rounds: int = ROUNDS,
) -> Section:
    from indexer.index_dir import resolve_build
    from indexer.manifest import Manifest

    manifest = Manifest.read(resolve_build(index_dir))
    size = sum(f.stat().st_size for f in resolve_build(index_dir).rglob("*") if f.is_file())
    generation = build.get("seconds", {})
    tables = [
        Table(
            f"Synthetic index: {manifest.passages:,} passages, {manifest.documents:,} documents, vector index "
            f"{manifest.vector_index.factory} ({manifest.vector_index.search_params}), {size / 2**30:.1f} GiB "
            "on disk. Generation seconds per phase (once; reused afterwards):",
            ("phase", "seconds"),
            tuple((phase, f"{s:.0f}") for phase, s in generation.items()),
        ),
        Table(
            f"In-process `SearchEngine.search` (wall ms), the {len(dev_questions())} Reuters development "
            f"questions x {rounds} rounds, k=5:",
            ("path", "searches", "p50 ms", "p90 ms", "p99 ms"),
            tuple((name, str(len(ms)), *_stats(ms)) for name, ms in local.items()),
        ),
    ]
    if http:
        tables.append(Table(
            "Server `took_ms` over HTTP (one client):", ("path", "requests", "p50 ms", "p90 ms", "p99 ms"),
            tuple((name, str(len(ms)), *_stats(ms)) for name, ms in http.items()),
        ))
    p50 = percentile((http or local)["hybrid"], 50)
    where = "over HTTP" if http else "in-process"
    return Section(
        "Query latency on a synthetic 1M-passage index", tables,
        [f"Generated by `python -m benchmarks.bench_synthetic --index {index_dir}` from the Reuters index; "
         "see the module docstring for how the passages and vectors are perturbed."],
        [Target(f"synthetic {manifest.passages:,} passages: hybrid p50 ({where})", "<= 40 ms", f"{p50:.1f} ms",
                p50 <= 40)],
    )


def _stats(ms: Sequence[float]) -> tuple[str, str, str]:
    return f"{percentile(ms, 50):.1f}", f"{percentile(ms, 90):.1f}", f"{percentile(ms, 99):.1f}"


def run(
    quick: bool = False, log: Log = print, index: Path | None = None, source: Path | None = None,
    passages: int = DEFAULT_PASSAGES, http: bool = False,
) -> Section:
    """Generate the synthetic index when missing, then measure it; a note when the inputs are missing."""
    from indexer.index_dir import IndexMissingError, resolve_build
    from indexer.manifest import Manifest

    title = "Query latency on a synthetic 1M-passage index"
    source = source or Path(os.environ.get(INDEX_ENV, "").strip() or "-")
    index = index or Path(os.environ.get(SYNTHETIC_ENV, "").strip() or "-")
    if str(index) == "-":
        return Section(title, notes=[f"skipped: set {SYNTHETIC_ENV} (or --synthetic-index) to a folder for the "
                                     "generated index; it is generated there once and reused."])
    try:
        manifest: Manifest | None = Manifest.read(resolve_build(index))
    except (IndexMissingError, OSError):
        manifest = None
    if manifest is None:
        if not (source / "current").exists() or not DEV_QUESTIONS.exists():
            return Section(title, notes=[f"skipped: no source Reuters index at {source} (set {INDEX_ENV})."])
        log(f"synthetic: generating {passages:,} passages into {index} (about 20-40 minutes on 2 cores)")
        generate(source, index, passages, seed=0, log=log)
        manifest = Manifest.read(resolve_build(index))
    rounds = 1 if quick else ROUNDS
    log("synthetic: in-process queries")
    local = in_process(index, rounds)
    served = http_took_ms(index, rounds, log) if http else None
    return section(index, manifest.extra.get("synthetic", {}), local, served, rounds)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Query latency on a synthetic 1M-passage index.")
    parser.add_argument(
        "--index", type=Path, default=None, help=f"Where the generated index is kept (default ${SYNTHETIC_ENV})."
    )
    parser.add_argument("--source", type=Path, default=None, help=f"The Reuters index (default ${INDEX_ENV}).")
    parser.add_argument("--passages", type=int, default=DEFAULT_PASSAGES)
    parser.add_argument("--http", action="store_true", help="Also measure the server's took_ms.")
    parser.add_argument("--quick", action="store_true", help="One round instead of three.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the section as markdown here.")
    args = parser.parse_args(argv)
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    result = run(args.quick, index=args.index, source=args.source, passages=args.passages, http=args.http)
    text = result.to_markdown()
    report(text, args.out)


if __name__ == "__main__":
    main()
