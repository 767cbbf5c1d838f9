"""Approximate nearest-neighbour benchmark: FAISS index kinds on 1M sentence-embedding-like vectors.

    python -m benchmarks.bench_ann [--n 1000000] [--quick] [--queries 1000] [--out FILE] [--vectors X.npy]

For each index kind (exact Flat; HNSW32 at several efSearch; IVF-PQ, OPQ-PQ, fast-scan PQ and SQ8 at several
nprobe, with and without exact re-ranking of their candidates) it reports build seconds, bytes per vector
(index file size / n, and whether re-ranking needs the original vectors beside it), single-query p50/p99 (one
query at a time through ``indexer.vector_index.VectorSearcher``, as the API searches) and recall@10 against
exact search. A second table gives Flat's single-query latency at 10k, 100k, 300k and 1M vectors, which is
what ``choose_kind``'s flat threshold rests on. ``--quick`` is a 50k-vector smoke run.

Data: ``make_embeddings`` (seed 0), a "topic mixture" built to look like sentence embeddings to an ANN index.
Uniform random vectors would be unrealistically hard (no neighbourhood structure) and well separated clusters
unrealistically easy for IVF, so each vector is ``0.4 * m + 0.6 * topic_t + s_t * z`` normalised: ``m`` is a
shared mean direction (embeddings are anisotropic: random pairs have cosine ~0.1, not 0), the 4,000 topics
(Zipf-like sizes) are grouped under 200 super-topics, ``s_t`` is a per-topic spread drawn from U(0.6, 1.4),
and every Gaussian part has a power-law spectrum in a shared random basis (variance of the i-th direction
~ i^-0.7 for topic centres, i^-1.1 for the within-topic part ``z``), like embedding PCA spectra. The knobs
were set so that at 30k vectors the statistics that decide ANN difficulty match 30k real all-MiniLM-L6-v2
embeddings of Reuters-21578 sentences (``--vectors`` runs the same table on such a file):

    statistic (30k vectors, 500 queries)      real MiniLM    synthetic
    cosine of random pairs                    0.12 +- 0.11   0.10 +- 0.16
    cosine of 1st / 10th neighbour            0.66 / 0.54    0.66 / 0.58
    local intrinsic dimension (MLE, k=20)     23             25
    variance in top 10 / 50 / 100 PCs         25/55/73 %     40/66/79 %
    HNSW16 recall@10 at efSearch 8/16/32      .87/.92/.94    .83/.89/.94
    IVF512,Flat recall@10 at nprobe 8/32      .81/.94        .81/.95

A first version (clearly separated topics) matched the HNSW row but gave IVF .99/.998: neighbours of real
embeddings straddle coarse cells far more than tight clusters do, so IVF figures on such data are optimistic.

Queries are 1,000 more vectors from the same distribution, not in the index; ground truth is exact inner
product search (FAISS brute force). All IVF variants share the coarse centroids trained by the module's
IVF-PQ build, so they differ only in how vectors are encoded.
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from benchmarks import Section, Table, Target, percentile, targets_table
from benchmarks.machine import describe_machine, load_average
from indexer.vector_index import (
    VectorIndexInfo,
    VectorSearcher,
    build_vector_index,
    exact_top_k,
    load_vector_index,
    save_vector_index,
)

DIM = 384
K = 10
FLAT_SIZES = (10_000, 100_000, 300_000, 1_000_000)
EF_VALUES = (16, 32, 64, 128, 256)
NPROBE_VALUES = (8, 16, 32, 64)
RERANK_VALUES = (0, 50, 100, 200)
TARGET_P50_MS = 2.0
TARGET_RECALL = 0.95
TARGET_BYTES = 200
TARGET_COMPRESSED_RECALL = 0.90


def make_embeddings(n: int, d: int = DIM, *, seed: int = 0, chunk: int = 100_000) -> np.ndarray:
    """``n`` unit vectors from the topic mixture described in the module docstring (deterministic in seed)."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((d, d)))

    def colouring(alpha: float) -> np.ndarray:
        """z @ result: Gaussian with E|.|^2 = 1 and variance ~ i^-2alpha along the i-th basis direction."""
        spectrum = np.arange(1, d + 1, dtype=np.float64) ** -alpha
        spectrum /= np.sqrt((spectrum**2).sum())
        return (spectrum[:, None] * basis.T).astype(np.float32)

    centre_colour, noise_colour = colouring(0.35), colouring(0.55)

    def gaussian(m: int, colour: np.ndarray) -> np.ndarray:
        return rng.standard_normal((m, d), dtype=np.float32) @ colour

    mean_dir = rng.standard_normal(d).astype(np.float32)
    mean_dir /= np.linalg.norm(mean_dir)
    n_topics, n_super = 4_000, 200
    supers = gaussian(n_super, centre_colour)
    topics = 0.6 * (supers[rng.integers(0, n_super, n_topics)] + 0.8 * gaussian(n_topics, centre_colour))
    weights = 1.0 / np.arange(1, n_topics + 1) ** 0.7
    weights /= weights.sum()
    spreads = rng.uniform(0.6, 1.4, n_topics).astype(np.float32)
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        t = rng.choice(n_topics, m, p=weights)
        x = 0.4 * mean_dir + topics[t] + spreads[t, None] * gaussian(m, noise_colour)
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


@dataclass(frozen=True)
class Row:
    """One measured configuration."""

    name: str
    factory: str
    params: str
    build_s: float | None
    bytes_per_vector: float | None
    needs_vectors: bool
    p50_ms: float
    p99_ms: float
    recall: float
    note: str = ""

    def cells(self) -> tuple[str, ...]:
        return (
            self.name,
            f"`{self.factory}`",
            self.params or "-",
            "-" if self.build_s is None else f"{self.build_s:.1f}",
            "-" if self.bytes_per_vector is None else f"{self.bytes_per_vector:,.0f}",
            "yes" if self.needs_vectors else "no",
            f"{self.p50_ms:.3f}",
            f"{self.p99_ms:.3f}",
            f"{self.recall:.3f}",
            self.note,
        )


HEADER = (
    "index",
    "factory",
    "search params",
    "build s",
    "bytes/vector (file)",
    "re-rank needs vectors.npy",
    "p50 ms",
    "p99 ms",
    "recall@10",
    "note",
)


def single_queries(search: Callable[[np.ndarray], np.ndarray], queries: np.ndarray) -> tuple[float, float, np.ndarray]:
    """p50 and p99 milliseconds of one query at a time, and the ids each returned."""
    for q in queries[:10]:
        search(q[None, :])
    found = np.empty((len(queries), K), np.int64)
    times = []
    for i, q in enumerate(queries):
        start = time.perf_counter()
        found[i] = search(q[None, :])[0]
        times.append(time.perf_counter() - start)
    return percentile(times, 50) * 1e3, percentile(times, 99) * 1e3, found


def recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found[:, :K], truth[:, :K], strict=True)]))


def file_bytes(index: faiss.Index, folder: Path, name: str) -> tuple[Path, int]:
    path = folder / f"{name}.faiss"
    save_vector_index(index, path)
    return path, path.stat().st_size


def describe(params: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


class Bench:
    """Holds the data and collects rows; each method measures one family of index."""

    def __init__(
        self, base: np.ndarray, queries: np.ndarray, folder: Path, log: Callable[[str], None], variants: bool = True
    ):
        self.base, self.queries, self.folder, self.log, self.variants = base, queries, folder, log, variants
        self.n = len(base)
        self.ids = np.arange(self.n, dtype=np.int64) * 2 + 1  # passage ids are not positions
        start = time.perf_counter()
        self.truth = self.ids[exact_top_k(base, queries, K)]
        self.log(f"ground truth for {len(queries)} queries in {time.perf_counter() - start:.1f} s")
        self.rows: list[Row] = []
        self.flat_rows: list[tuple[str, ...]] = []
        self.built: dict[str, str] = {}

    def measure(
        self,
        name: str,
        searcher: VectorSearcher,
        build_s: float | None,
        size: int | None,
        note: str = "",
        queries: np.ndarray | None = None,
    ) -> Row:
        qs = self.queries if queries is None else queries
        p50, p99, found = single_queries(lambda q: searcher.search(q, K)[1], qs)
        info = searcher.info
        row = Row(
            name,
            info.factory,
            describe(info.search_params),
            build_s,
            None if size is None else size / self.n,
            info.search_params.get("rerank", 0) > 0,
            p50,
            p99,
            recall_at_10(found, self.truth[: len(qs)]),
            note,
        )
        self.rows.append(row)
        self.log(" | ".join(row.cells()))
        return row

    def flat_scaling(self) -> None:
        for m in sorted({s for s in FLAT_SIZES if s < self.n} | {self.n}):
            start = time.perf_counter()
            index, info = build_vector_index(self.base[:m], self.ids[:m], kind="flat")
            build_s = time.perf_counter() - start
            searcher = VectorSearcher(index, info)
            qs = self.queries[: 100 if m >= 300_000 else 300]
            p50_1, p99_1, _ = single_queries(lambda q, s=searcher: s.search(q, K)[1], qs)
            faiss.omp_set_num_threads(2)
            p50_2, _, _ = single_queries(lambda q, ix=index: ix.search(q, K)[1], qs)
            self.flat_rows.append((f"{m:,}", f"{p50_1:.2f}", f"{p99_1:.2f}", f"{p50_2:.2f}", str(len(qs))))
            self.log(f"flat {m}: p50 {p50_1:.2f} ms (1 thread), {p50_2:.2f} ms (2 threads)")
            if m == self.n:
                _, size = file_bytes(index, self.folder, "flat")
                self.measure("Flat (exact)", searcher, build_s, size, f"{len(qs)} timed queries", qs)
            del index, searcher
            gc.collect()

    def hnsw(self) -> None:
        start = time.perf_counter()
        index, info = build_vector_index(self.base, self.ids, kind="hnsw")
        build_s = time.perf_counter() - start
        self.built["hnsw"] = (
            f"{describe(info.search_params)}, recall@10 on the held-out build sample {info.recall_at_10}"
        )
        path, size = file_bytes(index, self.folder, "hnsw")
        for ef in EF_VALUES:
            trial = info.model_copy(update={"search_params": {"efSearch": ef}})
            note = "chosen at build" if trial.search_params == info.search_params else ""
            self.measure("HNSW32", VectorSearcher(index, trial), build_s, size, note)
        del index
        gc.collect()
        self.built["hnsw load"] = self.load_times(path, info)
        mapped = load_vector_index(path, info, mmap=True)
        self.measure("HNSW32, memory-mapped", mapped, None, size, "loaded with mmap=True")

    def load_times(self, path: Path, info: VectorIndexInfo) -> str:
        """Seconds to open the saved index read into RAM vs memory-mapped (file already in the page cache)."""
        times = []
        for mmap in (False, True):
            start = time.perf_counter()
            searcher = load_vector_index(path, info, mmap=mmap, vectors=self.base)
            times.append(time.perf_counter() - start)
            del searcher
            gc.collect()
        return f"{times[0]:.2f} s read, {times[1]:.2f} s memory-mapped"

    def ivf_family(self) -> None:
        start = time.perf_counter()
        index, info = build_vector_index(self.base, self.ids, kind="ivfpq")
        build_s = time.perf_counter() - start
        self.built["ivfpq"] = (
            f"{describe(info.search_params)}, recall@10 on the held-out build sample {info.recall_at_10}"
        )
        path, size = file_bytes(index, self.folder, "ivfpq")
        self.built["ivfpq load"] = self.load_times(path, info)
        self.sweep("IVF-PQ", index, info, build_s, size, chosen=info.search_params)
        self.measure(
            "IVF-PQ, memory-mapped",
            load_vector_index(path, info, mmap=True, vectors=self.base),
            None,
            size,
            "loaded with mmap=True",
        )
        ivf = faiss.extract_index_ivf(faiss.downcast_index(index).index)
        if not self.variants:
            return
        self.refine_flat(ivf, info)
        quantizer = faiss.downcast_index(ivf.quantizer)
        nlist = ivf.nlist
        self.variant(
            "IVF-PQ fast-scan",
            f"IDMap,IVF{nlist},PQ{DIM // 4}x4fs",
            info,
            lambda q: faiss.IndexIVFPQFastScan(q, DIM, nlist, DIM // 4, 4, faiss.METRIC_INNER_PRODUCT),
            quantizer,
        )
        self.variant(
            "IVF-SQ8",
            f"IDMap,IVF{nlist},SQ8",
            info,
            lambda q: faiss.IndexIVFScalarQuantizer(
                q, DIM, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            ),
            quantizer,
        )
        self.opq(info, quantizer, nlist)

    def sweep(
        self,
        name: str,
        index: faiss.Index,
        info: VectorIndexInfo,
        build_s: float,
        size: int,
        chosen: dict[str, int] | None = None,
    ) -> None:
        for nprobe in NPROBE_VALUES:
            for rerank in RERANK_VALUES:
                params = {"nprobe": nprobe, "rerank": rerank} if rerank else {"nprobe": nprobe}
                note = "chosen at build" if params == chosen else ""
                searcher = VectorSearcher(
                    index, info.model_copy(update={"factory": info.factory, "search_params": params}), vectors=self.base
                )
                self.measure(name, searcher, build_s, size, note)

    def refine_flat(self, ivf: faiss.IndexIVF, info: VectorIndexInfo) -> None:
        """faiss.IndexRefineFlat (a second, full copy of the vectors inside FAISS) vs our numpy re-rank."""
        refine = faiss.IndexRefineFlat(ivf, faiss.swig_ptr(self.base))
        refine.k_factor = info.search_params["rerank"] / K
        faiss.omp_set_num_threads(1)
        p50, p99, found = single_queries(lambda q: self.ids[refine.search(q, K)[1]], self.queries)
        faiss.omp_set_num_threads(2)
        row = Row(
            "IVF-PQ + faiss.IndexRefineFlat",
            f"{info.factory},RFlat",
            describe(info.search_params),
            None,
            None,
            False,
            p50,
            p99,
            recall_at_10(found, self.truth),
            f"holds its own copy: +{DIM * 4:,} B/vector",
        )
        self.rows.append(row)
        self.log(" | ".join(row.cells()))

    def variant(
        self,
        name: str,
        factory: str,
        info: VectorIndexInfo,
        make: Callable[[faiss.Index], faiss.IndexIVF],
        quantizer: faiss.Index,
    ) -> None:
        start = time.perf_counter()
        ivf = make(faiss.clone_index(quantizer))
        if isinstance(ivf, faiss.IndexIVFPQ):
            ivf.do_polysemous_training = False
        index = faiss.IndexIDMap(ivf)
        faiss.omp_set_num_threads(1)
        index.train(self.train_sample())
        faiss.omp_set_num_threads(2)
        index.add_with_ids(self.base, self.ids)
        build_s = time.perf_counter() - start
        _, size = file_bytes(index, self.folder, name.replace(" ", "_"))
        self.sweep(name, index, info.model_copy(update={"factory": factory}), build_s, size)

    def opq(self, info: VectorIndexInfo, quantizer: faiss.Index, nlist: int) -> None:
        """OPQ48 rotation in front of IVF-PQ48; the shared centroids are rotated (inner products are kept)."""
        start = time.perf_counter()
        sample = self.train_sample()
        m = DIM // 8
        opq = faiss.OPQMatrix(DIM, m)
        opq.niter = 10  # faiss default 50: OPQ gained <= 0.01 recall here, training time is the cost
        faiss.omp_set_num_threads(1)
        opq.train(sample)
        centroids = quantizer.reconstruct_n(0, quantizer.ntotal)
        rotated = faiss.IndexFlatIP(DIM)
        rotated.add(opq.apply(centroids))
        ivf = faiss.IndexIVFPQ(rotated, DIM, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
        ivf.do_polysemous_training = False
        ivf.train(opq.apply(sample))
        faiss.omp_set_num_threads(2)
        index = faiss.IndexIDMap(faiss.IndexPreTransform(opq, ivf))
        index.add_with_ids(self.base, self.ids)
        build_s = time.perf_counter() - start
        _, size = file_bytes(index, self.folder, "opq")
        opq = info.model_copy(update={"factory": f"IDMap,OPQ{m},IVF{nlist},PQ{m}np"})
        self.sweep("OPQ-IVF-PQ", index, opq, build_s, size)

    def train_sample(self) -> np.ndarray:
        rng = np.random.default_rng(0)
        size = min(self.n, 65_536)
        return self.base[np.sort(rng.choice(self.n, size, replace=False))]


def best(rows: Sequence[Row], ok: Callable[[Row], bool]) -> Row | None:
    fitting = [r for r in rows if ok(r)]
    return min(fitting, key=lambda r: r.p50_ms) if fitting else None


def run(n: int, nq: int, vectors: Path | None, log: Callable[[str], None], variants: bool = True) -> Section:
    started = load_average()
    start = time.perf_counter()
    if vectors is not None:
        data = np.load(vectors).astype(np.float32)
        data = data[np.random.default_rng(0).permutation(len(data))]
        source = f"`{vectors}` ({len(data):,} vectors, shuffled with seed 0, last {nq} held out as queries)"
    else:
        data = make_embeddings(n + nq)
        source = f"`make_embeddings({n + nq:,})` (topic mixture, seed 0); the last {nq} are the queries"
    base, queries = data[:-nq], data[-nq:]
    log(f"data {base.shape} in {time.perf_counter() - start:.1f} s")
    faiss.omp_set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(base, queries, Path(tmp), log, variants)
        bench.flat_scaling()
        bench.hnsw()
        bench.ivf_family()
    rows = bench.rows
    fast = best(rows, lambda r: r.recall >= TARGET_RECALL and r.p50_ms <= TARGET_P50_MS)
    small = best(
        rows,
        lambda r: (
            r.needs_vectors
            and r.bytes_per_vector is not None
            and r.bytes_per_vector <= TARGET_BYTES
            and r.recall >= TARGET_COMPRESSED_RECALL
        ),
    )

    def said(row: Row | None) -> str:
        if row is None:
            return "no configuration"
        return (
            f"{row.name} ({row.params}): recall@10 {row.recall:.3f}, p50 {row.p50_ms:.3f} ms, "
            f"{row.bytes_per_vector:,.0f} B/vector"
        )

    targets = [
        Target(
            f"ANN, {len(base):,} x {DIM}",
            f"recall@10 >= {TARGET_RECALL} at single-query p50 <= {TARGET_P50_MS} ms",
            said(fast),
            fast is not None,
        ),
        Target(
            f"compressed, {len(base):,} x {DIM}",
            f"<= {TARGET_BYTES} B/vector, recall@10 >= {TARGET_COMPRESSED_RECALL} after exact re-rank",
            said(small),
            small is not None,
        ),
    ]
    faiss_opts = faiss.get_compile_options() if hasattr(faiss, "get_compile_options") else "?"
    notes = [
        f"data: {source}; {len(base):,} indexed vectors of dimension {DIM}, ids = 2 * position + 1",
        f"faiss {faiss.__version__} ({faiss_opts.strip()}), numpy {np.__version__}, Python "
        f"{platform.python_version()}; single queries use 1 OpenMP thread (what `VectorSearcher` does), "
        "builds and ground truth 2",
        "build s includes `build_vector_index`'s parameter tuning (500 vectors held out of the index, searched "
        "against exact ground truth, then added); rows with '-' reuse the index of the row above",
        f"module's choice at build: HNSW {bench.built.get('hnsw')}; IVF-PQ {bench.built.get('ivfpq')}",
        f"load_vector_index: HNSW {bench.built.get('hnsw load')}; IVF-PQ {bench.built.get('ivfpq load')}",
        "bytes/vector = index file size / n (codes, 2 x 8-byte ids: IVF lists + IDMap, centroids); rows with "
        "re-rank also read the 1,536-byte float32 rows of vectors.npy for their candidates (memory-mapped)",
        f"load average (1, 5, 15 min) at start {', '.join(f'{x:.2f}' for x in started)}, at end "
        f"{', '.join(f'{x:.2f}' for x in load_average())}; total {time.perf_counter() - start:.0f} s",
    ]
    machine = describe_machine().table()
    flat = Table(
        "Flat (exact) single-query latency by collection size (what `choose_kind`'s threshold rests on):",
        ("vectors", "p50 ms, 1 thread", "p99 ms, 1 thread", "p50 ms, 2 threads", "timed queries"),
        tuple(bench.flat_rows),
    )
    table = Table(
        f"All kinds, {len(base):,} vectors, {nq} single queries, k=10:",
        HEADER,
        tuple(r.cells() for r in rows),
        text_columns=3,
    )
    return Section(
        "ANN index kinds (`benchmarks/bench_ann.py`)",
        tables=[machine, targets_table(targets), table, flat],
        notes=notes,
        targets=targets,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="FAISS index kinds: build time, size, latency, recall@10.")
    parser.add_argument("--n", type=int, default=1_000_000, help="indexed vectors (default 1,000,000)")
    parser.add_argument("--queries", type=int, default=1_000, help="held-out single queries (default 1,000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: n=50,000, 300 queries")
    parser.add_argument("--vectors", type=Path, help="a (n, d) float32 normalised .npy to use instead")
    parser.add_argument(
        "--no-variants", action="store_true", help="only the module's kinds: skip fast-scan, SQ8, OPQ, RFlat"
    )
    parser.add_argument("--out", type=Path, help="write the markdown report here (default: stdout)")
    args = parser.parse_args(argv)
    n, nq = (50_000, 300) if args.quick else (args.n, args.queries)

    def log(message: str) -> None:
        print(f"[bench_ann {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    command = "python -m benchmarks.bench_ann " + " ".join(argv if argv is not None else sys.argv[1:])
    section = run(n, nq, args.vectors, log, variants=not args.no_variants)
    report = f"Command: `{command.strip()}`\n\n" + section.to_markdown()
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    else:
        print(report)


if __name__ == "__main__":
    main()
