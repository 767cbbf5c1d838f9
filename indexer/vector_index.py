"""FAISS vector index: exact while it is fast enough, then HNSW or IVF-PQ with exact re-ranking.

Vectors are float32 and L2-normalised, so inner product is cosine similarity. Every index is
``faiss.index_factory(d, "IDMap," + inner, METRIC_INNER_PRODUCT)``: the IDMap layer maps the inner index's
labels to the caller's int64 passage ids, all in one FAISS file. IVF indexes label each vector with its row
number in the ``vectors`` given to :func:`build_vector_index`, because their compressed codes only shortlist
candidates, which are re-ranked exactly against the original vectors read by row from a ``vectors`` array
(``np.load(dir / "vectors.npy", mmap_mode="r")`` saved in build order) with
``faiss.knn_inner_products_by_idx``. That measured as fast as ``faiss.IndexRefineFlat`` (0.39 vs 0.40 ms per
query, interleaved, 100k vectors) without a second copy of the vectors inside the index file.

Search parameters (``efSearch``, or ``nprobe`` + ``rerank``) are tuned at build time: a sample of up to 500
vectors is held out of the index, the cheapest parameters reaching recall@10 >= ``TARGET_RECALL`` against
exact search on that sample are kept, and the sample is added afterwards. The measured recall and the
parameters are stored in :class:`VectorIndexInfo` for the manifest. The thresholds below come from
``benchmarks/bench_ann.py`` on the 2-core AMD EPYC (Zen 4) with 384-d vectors; see that file's docstring.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

from indexer.manifest import VectorIndexInfo as VectorIndexInfo  # re-exported: callers read it from here too

IndexKind = Literal["auto", "flat", "hnsw", "ivfpq"]
KINDS: tuple[str, ...] = ("flat", "hnsw", "ivfpq")

#: Exact search up to this many vectors. Flat single-query p50 (384-d, 1 thread, bench_ann.py): 0.3-0.4 ms at
#: 10k (15 MB: fits the 32 MB L3), 5.8 ms at 50k, 10 ms at 100k, 22-27 ms at 250-300k, 82-99 ms at 1M: past
#: the cache it streams ~13 GB/s, +1 ms per ~9k vectors. HNSW at 50k-100k answers in 0.2-0.3 ms at recall@10
#: >= 0.97 and builds in 5-26 s, so exactness stops paying at ~5 ms, i.e. ~50k vectors.
FLAT_MAX_COUNT = 50_000
#: HNSW32,Flat up to this many vectors. At 1M it has the best latency at recall@10 >= 0.95 (efSearch 64:
#: 0.96 at 0.47 ms; 128: 0.98 at 0.83 ms) but builds in ~7 min on 2 cores and holds 1.8 kB per vector in RAM;
#: IVF-PQ builds in ~3 min with 71 B per vector (plus the memory-mapped vectors.npy it re-ranks from) at
#: 0.97 / 1.0 ms. At 2M HNSW would need ~3.6 GB and ~15 min, so above that IVF-PQ is chosen.
HNSW_MAX_COUNT = 2_000_000
#: IVF-PQ needs enough vectors to train 256 centroids per sub-quantizer and the coarse clustering.
IVFPQ_MIN_COUNT = 10_000
#: Index files at least this large are memory-mapped on load by default: the 1.8 GB HNSW file of 1M vectors
#: opened in 1.30 s read vs 0.04 s mapped, with the same search latency once its pages are cached.
MMAP_MIN_BYTES = 256 * 1024**2

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
EF_SEARCH_STEPS = (16, 32, 64, 128, 256, 512)
#: (nprobe, rerank) tried in order of cost until the target recall is reached.
IVF_STEPS = ((4, 100), (8, 100), (16, 100), (16, 200), (32, 200), (64, 200), (64, 400), (128, 400), (256, 400))
#: Build-time target for recall@10 (the issue asks >= 0.95; the 500-query sample's noise is about +-0.01).
TARGET_RECALL = 0.97
RECALL_SAMPLE = 500
TRAIN_SAMPLE_MAX = 200_000
TRAIN_POINTS_PER_LIST = 40


def choose_kind(count: int) -> str:
    """Pick the index kind for ``count`` vectors: flat, then HNSW, then IVF-PQ when RAM matters."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}.")
    if count <= FLAT_MAX_COUNT:
        return "flat"
    if count <= HNSW_MAX_COUNT:
        return "hnsw"
    return "ivfpq"


def ivf_nlist(count: int) -> int:
    """Number of IVF lists: the power of two nearest to 4*sqrt(count), between 64 and 65536."""
    target = 4.0 * math.sqrt(max(count, 1))
    return int(min(65536, max(64, 2 ** round(math.log2(target)))))


def pq_subquantizers(dimension: int) -> int:
    """PQ sub-quantizers: about 8 dimensions each (48 bytes per 384-d vector)."""
    for m in range(max(1, dimension // 8), 0, -1):
        if dimension % m == 0:
            return m
    return 1


def factory_for(kind: str, count: int, dimension: int) -> str:
    """The ``index_factory`` string used for ``kind`` at this size."""
    if kind == "flat":
        return "IDMap,Flat"
    if kind == "hnsw":
        return f"IDMap,HNSW{HNSW_M},Flat"
    if kind == "ivfpq":
        # "np": no polysemous training (a code re-ordering for Hamming filtering we never use; it made
        # training take minutes).
        return f"IDMap,IVF{ivf_nlist(count)},PQ{pq_subquantizers(dimension)}np"
    raise ValueError(f"Unknown vector index kind {kind!r}; expected 'auto' or one of {KINDS}.")


def build_vector_index(
    vectors: np.ndarray,
    ids: np.ndarray,
    kind: IndexKind = "auto",
    *,
    factory: str | None = None,
    target_recall: float = TARGET_RECALL,
    seed: int = 0,
) -> tuple[faiss.Index, VectorIndexInfo]:
    """Build an index over ``vectors`` labelled with ``ids`` and measure its recall.

    Args:
        vectors: ``(n, d)`` float32, L2-normalised. Row order defines positions for re-ranking: keep the same
            array (e.g. saved as ``vectors.npy``) to pass to :func:`load_vector_index` for IVF-PQ.
        ids: ``(n,)`` unique, non-negative int64 passage ids.
        kind: "auto" (:func:`choose_kind`), "flat", "hnsw" or "ivfpq".
        factory: Override :func:`factory_for` (must start with "IDMap,"; "ivfpq" covers any IVF index, whose
            candidates are re-ranked exactly). For experiments; the defaults are the measured choices.
        target_recall: The cheapest ``efSearch``/``nprobe`` reaching this recall@10 on the build sample
            is stored; if none does, the most thorough one tried is kept and the stored recall says so.
        seed: Seed for the training and recall samples.

    Returns:
        The FAISS index (IDMap over the inner index) and its :class:`VectorIndexInfo`.
    """
    x = _check_vectors(vectors)
    labels = _check_ids(ids, len(x))
    n, d = x.shape
    resolved = choose_kind(n) if kind == "auto" else kind
    if resolved not in KINDS:
        raise ValueError(f"Unknown vector index kind {kind!r}; expected 'auto' or one of {KINDS}.")
    if resolved == "ivfpq" and n < IVFPQ_MIN_COUNT:
        raise ValueError(
            f"kind='ivfpq' needs at least {IVFPQ_MIN_COUNT} vectors to train, got {n}; use 'flat' or 'hnsw'."
        )
    factory = factory or factory_for(resolved, n, d)
    if not factory.startswith("IDMap,"):
        raise ValueError(f"factory {factory!r} must start with 'IDMap,' so passage ids travel with the index.")
    index = faiss.index_factory(d, factory, faiss.METRIC_INNER_PRODUCT)
    inner = faiss.downcast_index(_id_map(index).index)
    if isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    if not index.is_trained:
        _train(index, inner, x, seed)
    info = VectorIndexInfo.model_validate({"kind": resolved, "factory": factory, "count": n, "dimension": d})
    if resolved == "flat" or n < 2:
        if n:
            index.add_with_ids(x, labels)
        return index, info
    # Index all but a held-out sample, tune the search parameters on that sample (queries the index has not
    # seen, like real ones: an indexed vector used as a query lands on its own HNSW node and finds its
    # neighbours through the node's links, which overstated recall@10 by ~0.05), then add the sample.
    held = np.sort(np.random.default_rng(seed + 1).choice(n, min(RECALL_SAMPLE, max(1, n // 10)), replace=False))
    rest = np.setdiff1d(np.arange(n), held)
    _add_rows(inner, x, rest)
    if resolved == "hnsw":
        candidates = [{"efSearch": ef} for ef in EF_SEARCH_STEPS]
    else:
        nlist = faiss.extract_index_ivf(inner).nlist
        candidates = [{"nprobe": p, "rerank": r} for p, r in IVF_STEPS if p <= nlist]
    info = _tune(inner, info, x, rest, held, candidates, target_recall)
    _add_rows(inner, x, held)
    # IVF indexes label vectors by row; others number them in the order added (rest, then held).
    outer = _id_map(index)
    faiss.copy_array_to_vector(labels if _is_ivf(inner) else labels[np.concatenate([rest, held])], outer.id_map)
    outer.ntotal = inner.ntotal
    return index, info


def _add_rows(inner: faiss.Index, x: np.ndarray, rows: np.ndarray, chunk: int = 65_536) -> None:
    """Add ``x[rows]`` in chunks (no full copy); IVF vectors are labelled with their row number."""
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        if _is_ivf(inner):
            inner.add_with_ids(x[part], part.astype(np.int64))
        else:
            inner.add(x[part])


def save_vector_index(index: faiss.Index, path: Path) -> None:
    """Write ``index`` to ``path`` atomically (temporary file, then rename); no pickle."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    faiss.write_index(index, str(tmp))
    os.replace(tmp, path)


def load_vector_index(
    path: Path,
    info: VectorIndexInfo,
    *,
    mmap: bool | None = None,
    vectors: np.ndarray | None = None,
) -> VectorSearcher:
    """Open a saved index for searching.

    Args:
        path: File written by :func:`save_vector_index`.
        info: The :class:`VectorIndexInfo` from the manifest; the file must match its count and dimension.
        mmap: Memory-map the file (``IO_FLAG_MMAP_IFC | IO_FLAG_READ_ONLY``: flat codes, HNSW graph and
            IVF lists stay on disk, paged in on demand). Default: when the file is >= ``MMAP_MIN_BYTES``.
            A mapped file must not be overwritten in place; :func:`save_vector_index` renames instead.
        vectors: ``(count, dimension)`` float32 rows in build order, needed for IVF-PQ re-ranking; a
            ``np.load(..., mmap_mode="r")`` array is fine.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Vector index file {path} is missing; rebuild the index.")
    if mmap is None:
        mmap = path.stat().st_size >= MMAP_MIN_BYTES
    flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap else 0
    index = faiss.read_index(str(path), flags)
    if index.ntotal != info.count or index.d != info.dimension:
        raise ValueError(
            f"{path} holds {index.ntotal} vectors of dimension {index.d}, but the manifest says "
            f"{info.count} of dimension {info.dimension}; rebuild the index."
        )
    return VectorSearcher(index, info, vectors=vectors)


class VectorSearcher:
    """Searches an IDMap-wrapped index with the parameters in its info; re-ranks IVF-PQ candidates exactly."""

    def __init__(self, index: faiss.Index, info: VectorIndexInfo, *, vectors: np.ndarray | None = None):
        """Wrap ``index`` (as returned by :func:`build_vector_index`).

        Args:
            index: IDMap-wrapped FAISS index.
            info: Its info; ``search_params`` are applied here.
            vectors: Original vectors in build order; required when ``search_params["rerank"] > 0``.
        """
        outer = _id_map(index)
        self._owner = index  # downcast proxies do not own the C++ object: keep the owning one alive
        self._index = outer
        self._inner = faiss.downcast_index(outer.index)
        self._ids = faiss.vector_to_array(outer.id_map).astype(np.int64, copy=False)
        self._info = info
        if _kind_of(self._inner) != info.kind:
            raise ValueError(
                f"The manifest says a {info.kind!r} index but the file holds {type(self._inner).__name__}; "
                "rebuild the index."
            )
        self._rerank = int(info.search_params.get("rerank", 0))
        _apply_params(self._inner, info.search_params)
        if self._rerank > 0:
            if vectors is None:
                raise ValueError(
                    f"The {info.kind} index re-ranks candidates exactly and needs the original vectors: pass "
                    "vectors=np.load(<index dir>/'vectors.npy', mmap_mode='r')."
                )
            if vectors.shape != (info.count, info.dimension):
                raise ValueError(
                    f"vectors has shape {vectors.shape}, expected ({info.count}, {info.dimension}) in build "
                    "order; rebuild the index or pass the vectors saved with it."
                )
        # C-contiguous float32 for the C++ re-rank; a float32 np.load(..., mmap_mode="r") array stays mapped.
        self._vectors = None if vectors is None else np.ascontiguousarray(vectors, dtype=np.float32)

    @property
    def info(self) -> VectorIndexInfo:
        """The index description."""
        return self._info

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` by inner product for each query.

        Args:
            queries: ``(nq, d)`` or ``(d,)`` float32, L2-normalised.
            k: Results per query (>= 1).

        Returns:
            ``(scores, ids)``, both ``(nq, k)``: float32 scores best first, int64 passage ids; slots beyond
            the available results hold id -1 and score -inf.
        """
        q = _check_queries(queries, self._info.dimension)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}.")
        scores, labels = _search_inner(self._inner, q, k, self._rerank, self._vectors)
        if not len(self._ids):
            return scores, labels
        return scores, np.where(labels >= 0, self._ids[np.maximum(labels, 0)], -1)


def _search_inner(
    inner: faiss.Index, q: np.ndarray, k: int, rerank: int, vectors: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Inner-index labels (IVF: rows) and scores; with ``rerank`` the top candidates are re-scored exactly."""
    nq = len(q)
    if nq == 0 or inner.ntotal == 0:
        return np.full((nq, k), -np.inf, np.float32), np.full((nq, k), -1, np.int64)
    # One query: one thread. Flat is the only kind that splits a single query across threads, and on the
    # shared 2-core machine that was 3-30x slower than one thread (benchmarks/bench_ann.py).
    with _omp_threads(1 if nq == 1 else None):
        if rerank > 0:
            assert vectors is not None
            _, candidates = inner.search(q, max(k, rerank))
            return _exact_rerank(vectors, q, candidates, k)
        scores, labels = inner.search(q, k)
    scores[labels < 0] = -np.inf
    return scores, labels


def _exact_rerank(vectors: np.ndarray, q: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Re-score candidate rows against their float32 vectors, in C++ (``faiss.knn_inner_products_by_idx``).

    Reads only the candidates' rows, so a memory-mapped ``vectors.npy`` works without loading it.
    """
    nq, d = q.shape
    candidates = np.ascontiguousarray(candidates, dtype=np.int64)
    scores = np.empty((nq, k), np.float32)
    rows = np.empty((nq, k), np.int64)
    untyped_faiss: Any = faiss  # faiss's own stubs (1.15) omit this SWIG function
    untyped_faiss.knn_inner_products_by_idx(
        faiss.swig_ptr(q),
        faiss.swig_ptr(vectors),
        faiss.swig_ptr(candidates),
        d,
        nq,
        len(vectors),
        candidates.shape[1],
        k,
        faiss.swig_ptr(scores),
        faiss.swig_ptr(rows),
        candidates.shape[1],  # row stride of candidates (defaults to len(vectors))
    )
    scores[rows < 0] = -np.inf
    return scores, rows


def _apply_params(inner: faiss.Index, params: dict[str, int]) -> None:
    """Set efSearch / nprobe on the inner index, refusing parameters that do not fit it."""
    allowed = {"flat": set(), "hnsw": {"efSearch"}, "ivfpq": {"nprobe", "rerank"}}[_kind_of(inner)]
    for name, value in params.items():
        if name not in allowed or int(value) < (0 if name == "rerank" else 1):
            raise ValueError(
                f"search parameter {name}={value!r} does not fit a {type(inner).__name__} index "
                f"(allowed: {sorted(allowed) or 'none'}); rebuild the index."
            )
    if "efSearch" in params and isinstance(inner, faiss.IndexHNSW):  # only HNSW allows efSearch (above)
        inner.hnsw.efSearch = int(params["efSearch"])
    if "nprobe" in params:
        faiss.extract_index_ivf(inner).nprobe = int(params["nprobe"])


def _tune(
    inner: faiss.Index,
    info: VectorIndexInfo,
    vectors: np.ndarray,
    rest: np.ndarray,
    held: np.ndarray,
    candidates: list[dict[str, int]],
    target_recall: float,
) -> VectorIndexInfo:
    """Try ``candidates`` in order on an index holding ``rest``; keep the first reaching ``target_recall``."""
    queries = vectors[held]
    is_held = np.zeros(len(vectors), bool)
    is_held[held] = True
    nearest = exact_top_k(vectors, queries, 10 + 20)  # over all rows, then drop the held-out ones
    truth = [t[t >= 0][~is_held[t[t >= 0]]][:10] for t in nearest]
    sequential = not _is_ivf(inner)
    chosen = info
    for params in candidates:
        _apply_params(inner, params)
        _, labels = _search_inner(inner, queries, 10, params.get("rerank", 0), vectors)
        found = [rest[f[f >= 0]] if sequential else f[f >= 0] for f in labels]
        recall = float(np.mean([len(set(t) & set(f)) / max(len(t), 1) for t, f in zip(truth, found, strict=True)]))
        chosen = info.model_copy(update={"recall_at_10": round(recall, 4), "search_params": params})
        if recall >= target_recall:
            break
    _apply_params(inner, chosen.search_params)
    return chosen


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int, batch: int = 256) -> np.ndarray:
    """Exact top-``k`` row positions by inner product (FAISS brute force, queries in batches)."""
    out = np.empty((len(queries), k), np.int64)
    for start in range(0, len(queries), batch):
        _, out[start : start + batch] = faiss.knn(
            np.ascontiguousarray(queries[start : start + batch], dtype=np.float32),
            np.ascontiguousarray(vectors, dtype=np.float32),
            k,
            faiss.METRIC_INNER_PRODUCT,
        )
    return out


def _train(index: faiss.Index, inner: faiss.Index, x: np.ndarray, seed: int) -> None:
    """Train on a sample: coarse k-means on all cores, then the codec on one.

    The codec's many small k-means runs (48 x 256 centroids for PQ48) are dominated by OpenMP barriers; on
    the shared 2-core machine 2 threads made PQ training 5x slower than 1 (benchmarks/bench_ann.py).
    """
    ivf = faiss.extract_index_ivf(inner) if _is_ivf(inner) else None
    size = TRAIN_SAMPLE_MAX if ivf is None else min(TRAIN_SAMPLE_MAX, max(65_536, TRAIN_POINTS_PER_LIST * ivf.nlist))
    sample = x
    if len(x) > size:
        sample = x[np.sort(np.random.default_rng(seed).choice(len(x), size, replace=False))]
    if isinstance(inner, faiss.IndexIVF) and inner.quantizer.ntotal == 0:
        # A plain IVF (no pre-transform): its coarse centroids are learnt in the input space.
        faiss.Clustering(inner.d, inner.nlist, inner.cp).train(sample, inner.quantizer)
    with _omp_threads(1):
        index.train(sample)


def _id_map(index: faiss.Index) -> faiss.IndexIDMap:
    """The IDMap layer of ``index``, refusing an index built without one."""
    outer = faiss.downcast_index(index)
    if not isinstance(outer, faiss.IndexIDMap):
        raise TypeError(
            f"Expected an IDMap-wrapped index, got {type(outer).__name__}; build it with build_vector_index()."
        )
    return outer


def _kind_of(inner: faiss.Index) -> str:
    """Which kind's search path fits this inner index."""
    if isinstance(inner, faiss.IndexHNSW):
        return "hnsw"
    if _is_ivf(inner):
        return "ivfpq"
    return "flat"


def _is_ivf(index: faiss.Index) -> bool:
    try:
        faiss.extract_index_ivf(index)
    except RuntimeError:
        return False
    return True


@contextmanager
def _omp_threads(n: int | None) -> Iterator[None]:
    """Run FAISS with ``n`` OpenMP threads in this thread (OpenMP's setting is per calling thread)."""
    if n is None:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _check_vectors(vectors: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"vectors must be a 2-D (n, d) float32 array, got shape {x.shape}.")
    if len(x):
        norms = np.linalg.norm(x[: min(len(x), 1000)], axis=1)
        if not np.all(np.abs(norms - 1.0) < 1e-3):
            raise ValueError(
                "vectors must be L2-normalised (inner product = cosine); normalise them first, "
                "e.g. encode(..., normalize_embeddings=True)."
            )
    return x


def _check_ids(ids: np.ndarray, n: int) -> np.ndarray:
    labels = np.ascontiguousarray(ids, dtype=np.int64)
    if labels.shape != (n,):
        raise ValueError(f"ids must have shape ({n},) to match vectors, got {labels.shape}.")
    if len(np.unique(labels)) != n:
        raise ValueError("ids must be unique; each passage id may be indexed once.")
    if n and labels.min() < 0:
        raise ValueError("ids must be >= 0 (-1 marks a missing result).")
    return labels


def _check_queries(queries: np.ndarray, d: int) -> np.ndarray:
    q = np.ascontiguousarray(queries, dtype=np.float32)
    if q.ndim == 1:
        q = q[None, :]
    if q.ndim != 2 or q.shape[1] != d:
        raise ValueError(f"queries must have shape (nq, {d}) or ({d},), got {np.shape(queries)}.")
    return q
