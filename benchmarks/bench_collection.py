"""Query latency at collection scale: a prebuilt index of the whole Reuters collection (19,043 stories).

Measures, on an index built beforehand (never rebuilt here, it takes ~10 minutes of embedding):

- HTTP: server-side `took_ms` of `seedsearch serve` for the 40 questions of the Reuters development set, per
  mode (lexical, dense, hybrid) and for the questions that name a party, `ROUNDS` rounds; and a 2,000-character
  question in the default (hybrid) mode.
- in-process: `SearchEngine.search` per mode, with the share of each stage (query encoding, dense, lexical,
  cosines by id, passages read, the rest: question parsing, fusion, boosts, highlights).
- the lexical side of a build: the time to write the lexical index from the build's database, its size, and
  its share of the full build's time recorded in the manifest.
- with `--compare-engines`: bm25s (what the product uses) against Tantivy on the same passages.

    SEEDSEARCH_BENCH_REUTERS_INDEX=/path/to/index python -m benchmarks.bench_collection [--quick] [--out FILE]
    python -m benchmarks.bench_collection --index /path/to/index [--compare-engines]

Without an index the section says how to build one and measures nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import Section, Table, Target, percentile, report
from benchmarks.bench_query import Server

REPO = Path(__file__).resolve().parent.parent
DEV_QUESTIONS = REPO.parent / "shared" / "eval" / "reuters_attribution_dev.jsonl"
INDEX_ENV = "SEEDSEARCH_BENCH_REUTERS_INDEX"
MODES = ("lexical", "dense", "hybrid")
ROUNDS = 3
LONG_QUERY_CHARS = 2000
Log = Callable[[str], None]


def dev_questions() -> list[tuple[str, bool]]:
    """(question, whether it names a party) for each line of the development set."""
    lines = DEV_QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [(row["question"], bool(row.get("party"))) for row in map(json.loads, filter(None, lines))]


def long_question(questions: Sequence[str]) -> str:
    """A question of `LONG_QUERY_CHARS` characters: the development questions one after another."""
    text = ""
    while len(text) < LONG_QUERY_CHARS:
        text += " ".join(questions) + " "
    return text[:LONG_QUERY_CHARS]


def _stats(ms: Sequence[float]) -> tuple[str, str, str]:
    return f"{percentile(ms, 50):.1f}", f"{percentile(ms, 90):.1f}", f"{percentile(ms, 99):.1f}"


# --------------------------------------------------------------------------- HTTP


def http_took_ms(index_dir: Path, workdir: Path, rounds: int, log: Log) -> dict[str, list[float]]:
    """Server `took_ms` per path: each mode over every question, party questions in hybrid, a long question."""
    import httpx

    asked = dev_questions()
    found: dict[str, list[float]] = {name: [] for name in (*MODES, "hybrid, party named", "hybrid, 2,000 chars")}
    log("collection: starting `seedsearch serve` on the Reuters index")
    with Server(index_dir, workdir / "serve.log") as server, httpx.Client(base_url=server.url, timeout=60) as client:

        def took(question: str, mode: str) -> float:
            response = client.get("/search", params={"q": question, "k": 5, "mode": mode})
            response.raise_for_status()
            return float(response.json()["took_ms"])

        for question, _ in asked:  # warm-up: the page cache and the passage cache see every path once
            for mode in MODES:
                took(question, mode)
        for round_ in range(rounds):
            log(f"collection: HTTP round {round_ + 1} of {rounds}")
            for mode in MODES:
                for question, party in asked:
                    ms = took(question, mode)
                    found[mode].append(ms)
                    if mode == "hybrid" and party:
                        found["hybrid, party named"].append(ms)
        long = long_question([q for q, _ in asked])
        found["hybrid, 2,000 chars"] = [took(long, "hybrid") for _ in range(10 * rounds)]
    return found


# --------------------------------------------------------------------------- in-process, with stages


class _Stages:
    """Wall time per stage, filled by the timing wrappers below."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def timed(self, stage: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            tick = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - tick

        return wrapper


def in_process(index_dir: Path, rounds: int) -> tuple[dict[str, list[float]], dict[str, dict[str, float]]]:
    """`SearchEngine.search` wall ms per mode, and each mode's share of time per stage."""
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
    questions = [q for q, _ in dev_questions()]
    latencies: dict[str, list[float]] = {}
    shares: dict[str, dict[str, float]] = {}
    for mode in MODES:
        for question in questions:  # warm-up
            engine.search(question, k=5, mode=mode)  # type: ignore[arg-type]
        stages = _Stages()
        names = {"encode_queries": "encode"}
        originals = {name: getattr(embedder, name) for name in names}
        for name, stage in names.items():
            setattr(embedder, name, stages.timed(stage, originals[name]))
        for name in ("dense", "lexical", "dense_scores", "passages"):
            setattr(store, name, stages.timed(name, getattr(LocalStore, name).__get__(store)))
        ms: list[float] = []
        for _ in range(rounds):
            for question in questions:
                tick = time.perf_counter()
                engine.search(question, k=5, mode=mode)  # type: ignore[arg-type]
                ms.append((time.perf_counter() - tick) * 1000)
        for name in names:
            setattr(embedder, name, originals[name])
        for name in ("dense", "lexical", "dense_scores", "passages"):
            delattr(store, name)
        total = sum(ms) / 1000
        shares[mode] = {stage: seconds / total for stage, seconds in stages.seconds.items()}
        shares[mode]["rest"] = max(0.0, 1 - sum(shares[mode].values()))
        latencies[mode] = ms
    store.close()
    return latencies, shares


# --------------------------------------------------------------------------- the lexical side of a build


def lexical_inputs(conn: sqlite3.Connection) -> tuple[list[Any], list[tuple[str, str]]]:
    """What a build gives the lexical writer: every passage's row and every document's text."""
    from indexer.database import lexical_documents, lexical_rows
    from indexer.entities import EntityResolver

    resolver = EntityResolver.default()

    def name(entity_id: str) -> str:
        try:
            return resolver.get(entity_id).name
        except KeyError:
            return ""

    return list(lexical_rows(conn, name)), lexical_documents(conn)


def _rows(build_dir: Path) -> tuple[list[Any], list[tuple[str, str]]]:
    conn = sqlite3.connect(f"file:{build_dir / 'passages.sqlite'}?mode=ro", uri=True)
    try:
        return lexical_inputs(conn)
    finally:
        conn.close()


def lexical_build(build_dir: Path, workdir: Path) -> dict[str, float]:
    """Seconds to read the rows and write the lexical index, its size, and the build's total seconds."""
    from indexer.lexical import write_lexical_index
    from indexer.manifest import Manifest

    tick = time.perf_counter()
    rows, documents = _rows(build_dir)
    read = time.perf_counter() - tick
    tick = time.perf_counter()
    write_lexical_index(workdir / "lexical", rows, documents)
    written = time.perf_counter() - tick
    size = sum(f.stat().st_size for f in (workdir / "lexical").iterdir())
    return {
        "read_s": read, "write_s": written, "bytes": size, "build_s": Manifest.read(build_dir).build_seconds,
        "passages": len(rows),
    }


def compare_engines(build_dir: Path, workdir: Path, log: Log) -> Table:
    """bm25s (the product's lexical index) against Tantivy (en_stem) on the same passage bodies."""
    import tantivy

    from indexer.lexical import LexicalIndex, write_lexical_index
    from indexer.tokens import words

    rows, documents = _rows(build_dir)
    questions = [list(dict.fromkeys(words(q))) for q, _ in dev_questions()]
    log("collection: bm25s build and queries")
    tick = time.perf_counter()
    write_lexical_index(workdir / "bm25s", rows, documents)
    bm25s_build = time.perf_counter() - tick
    ours = LexicalIndex(workdir / "bm25s")
    bm25s_ms = _time_queries(lambda terms: ours.search(terms, [], 100), questions)
    log("collection: Tantivy build and queries")
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    builder.add_text_field("body", tokenizer_name="en_stem")
    builder.add_text_field("extra", tokenizer_name="en_stem")
    schema = builder.build()
    (workdir / "tantivy").mkdir()
    tick = time.perf_counter()
    index = tantivy.Index(schema, path=str(workdir / "tantivy"))
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    for row in rows:
        writer.add_document(tantivy.Document(id=row.passage_id, body=row.body, extra=row.extra))
    writer.commit()
    writer.wait_merging_threads()
    tantivy_build = time.perf_counter() - tick
    index.reload()
    searcher = index.searcher()

    def tantivy_search(terms: list[str]) -> object:
        query = index.parse_query(" ".join(terms), ["body", "extra"], field_boosts={"extra": 0.5})
        return searcher.search(query, 100).hits

    tantivy_ms = _time_queries(tantivy_search, questions)
    sizes = {name: sum(f.stat().st_size for f in (workdir / name).rglob("*") if f.is_file())
             for name in ("bm25s", "tantivy")}
    rows_out = (
        ("bm25s (chosen)", f"{bm25s_build:.1f}", f"{sizes['bm25s'] / 2**20:.0f}", *_stats(bm25s_ms)),
        ("tantivy 0.27, en_stem", f"{tantivy_build:.1f}", f"{sizes['tantivy'] / 2**20:.0f}", *_stats(tantivy_ms)),
    )
    return Table(
        f"Lexical engines on the same {len(rows):,} passages (body + entity names, OR of the question's words, "
        f"top 100, {len(questions)} development questions x 5, one thread):",
        ("engine", "build s", "size MiB", "query p50 ms", "p90 ms", "p99 ms"),
        rows_out,
    )


def _time_queries(search: Callable[[list[str]], object], questions: Sequence[list[str]]) -> list[float]:
    for terms in questions:
        search(terms)
    ms = []
    for _ in range(5):
        for terms in questions:
            tick = time.perf_counter()
            search(terms)
            ms.append((time.perf_counter() - tick) * 1000)
    return ms


# --------------------------------------------------------------------------- the report


def section(
    http: dict[str, list[float]],
    stages: tuple[dict[str, list[float]], dict[str, dict[str, float]]],
    build: dict[str, float],
    engines: Table | None,
    passages: int,
    rounds: int = ROUNDS,
) -> Section:
    latencies, shares = stages
    http_table = Table(
        f"Reuters index ({passages:,} passages): server `took_ms` over HTTP, k=5, the {len(dev_questions())} "
        f"development questions x {rounds} rounds, one client:",
        ("path", "requests", "p50 ms", "p90 ms", "p99 ms"),
        tuple((name, str(len(ms)), *_stats(ms)) for name, ms in http.items()),
    )
    stage_names = ("encode", "dense", "lexical", "dense_scores", "passages", "rest")
    stage_table = Table(
        "In-process `SearchEngine.search` (wall ms) and each stage's time as a share of it (rest: question "
        "parsing, fusion, boosts, highlights). In hybrid mode the question is encoded on a worker thread while "
        "the lexical query runs, so the shares add up to more than 100%, 'rest' reads 0 and 'lexical' includes waiting "
        "for the question's vector (the dense candidates are searched inside the lexical call):",
        ("mode", "p50 ms", "p90 ms", "p99 ms", *stage_names),
        tuple(
            (mode, *_stats(ms), *(f"{100 * shares[mode].get(s, 0.0):.0f}%" for s in stage_names))
            for mode, ms in latencies.items()
        ),
    )
    lexical_s = build["read_s"] + build["write_s"]
    build_table = Table(
        "The lexical side of a build (read rows from SQLite, analyse, write `lexical/`):",
        ("passages", "read s", "analyse + write s", "size MiB", "full build s (manifest)", "share"),
        ((f"{build['passages']:,.0f}", f"{build['read_s']:.1f}", f"{build['write_s']:.1f}",
          f"{build['bytes'] / 2**20:.0f}", f"{build['build_s']:.0f}",
          f"{100 * lexical_s / build['build_s']:.1f}%" if build["build_s"] else "-"),),
    )
    p50 = {name: percentile(ms, 50) for name, ms in http.items()}
    p99 = percentile(http["hybrid"], 99)
    long_max = max(http["hybrid, 2,000 chars"])
    targets = [
        Target("Reuters hybrid took_ms p50", "<= 15 ms", f"{p50['hybrid']:.1f} ms", p50["hybrid"] <= 15),
        Target("Reuters hybrid took_ms p99", "<= 60 ms", f"{p99:.1f} ms", p99 <= 60),
        Target("Reuters lexical took_ms p50", "<= 5 ms", f"{p50['lexical']:.1f} ms", p50["lexical"] <= 5),
        Target("Reuters 2,000-character hybrid query", "<= 100 ms",
               f"p50 {p50['hybrid, 2,000 chars']:.1f} ms, max {long_max:.1f} ms", long_max <= 100),
    ]
    if build["build_s"]:
        share = lexical_s / build["build_s"]
        targets.append(Target("lexical index share of a full Reuters build", "<= 10%",
                              f"{100 * share:.1f}% ({lexical_s:.0f} s of {build['build_s']:.0f} s)", share <= 0.10))
    notes = [
        "Baseline (SQLite FTS5, before this change): hybrid took_ms p50 221 ms, p90 518 ms on the same questions.",
        "The synthetic 1M-passage index of issue 16: `python -m benchmarks.bench_synthetic` (opt-in section "
        "`synthetic` of `benchmarks.run`).",
    ]
    return Section("Query latency at collection scale (Reuters)", [http_table, stage_table, build_table,
                   *([engines] if engines else [])], notes, targets)


def index_dir_from(explicit: Path | None) -> Path | None:
    """The prebuilt Reuters index: `--index`, else $SEEDSEARCH_BENCH_REUTERS_INDEX, else None."""
    if explicit is not None:
        return explicit
    value = os.environ.get(INDEX_ENV, "").strip()
    return Path(value) if value else None


def run(quick: bool = False, log: Log = print, index: Path | None = None, engines: bool = False) -> Section:
    """The collection-scale section, or a note saying how to point it at an index."""
    from indexer.index_dir import resolve_build
    from indexer.manifest import Manifest

    index_dir = index_dir_from(index)
    title = "Query latency at collection scale (Reuters)"
    if index_dir is None or not DEV_QUESTIONS.exists():
        return Section(title, notes=[
            f"skipped: set {INDEX_ENV} to an index of the whole Reuters collection (build it once with "
            "`seedsearch build --source ../shared/datasets/reuters21578/reuters.jsonl --index DIR`) and make sure "
            f"{DEV_QUESTIONS} exists."
        ])
    build_dir = resolve_build(index_dir)
    passages = Manifest.read(build_dir).passages
    rounds = 1 if quick else ROUNDS
    workdir = Path(tempfile.mkdtemp(prefix="seedsearch-bench-collection-"))
    try:
        http = http_took_ms(index_dir, workdir, rounds, log)
        log("collection: in-process stages")
        stages = in_process(index_dir, rounds)
        log("collection: the lexical side of a build")
        build = lexical_build(build_dir, workdir / "build")
        compared = compare_engines(build_dir, workdir / "engines", log) if engines else None
        return section(http, stages, build, compared, passages, rounds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Query latency on a prebuilt index of the Reuters collection.")
    parser.add_argument("--index", type=Path, default=None, help=f"The index (default: ${INDEX_ENV}).")
    parser.add_argument("--quick", action="store_true", help="One round instead of three.")
    parser.add_argument("--compare-engines", action="store_true", help="Also time bm25s against Tantivy.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the section as markdown here.")
    args = parser.parse_args(argv)
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    result = run(args.quick, index=args.index, engines=args.compare_engines)
    text = result.to_markdown()
    report(text, args.out)


if __name__ == "__main__":
    main()
