"""Choose tokenisation, BM25 parameters and fusion weights on a BEIR train split, then report test.

For each BM25 setting (k1, b, FTS5's or Lucene's idf) with the product's tokenisation, and for each other
tokenisation (stop words kept; Porter or no stemming) with the default BM25, the lexical index of a copy of
the build is rewritten (nothing is embedded again), the real engine gives every query's candidates (dense,
passage BM25, document BM25; as many as `seedsearch eval` asks for), and `search_api.fusion.fuse` is
replayed with each fusion setting; document nDCG@10 is what `seedsearch eval --beir` computes. The best
setting on train is then scored on test, once, beside the current defaults.

    python -m benchmarks.tune_lexical --index /work/scifact-index --beir /work/shared/datasets/scifact [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import indexer.lexical
import indexer.tokens
from indexer.embedding import load_embedder
from indexer.lexical import Bm25, LexicalIndex, write_lexical_index
from indexer.local_store import LocalStore
from search_api.contract import Mode
from search_api.engine import SearchEngine
from search_api.evaluation import document_scores, load_qrels
from search_api.fusion import Candidates, SearchOptions, fuse

POOL = 300  # passages per query, as `seedsearch eval --beir` asks
TOKENISATIONS = ("snowball", "snowball, stop words kept", "porter", "none")
BM25_GRID = (*(Bm25(k1, b) for k1 in (0.9, 1.2, 1.5) for b in (0.5, 0.75, 0.9)), Bm25(idf="lucene"))
QUICK_GRID = tuple(Bm25(k1, b) for k1 in (0.9, 1.2, 1.5) for b in (0.6, 0.75, 0.9))
FUSION_GRID = tuple(
    SearchOptions(dense_weight=w, document_weight=a) for w in (0.65, 0.7, 0.75, 0.8) for a in (1.0, 2.0, 3.0)
)


@dataclass(frozen=True)
class Split:
    ids: list[str]
    texts: list[str]
    vectors: np.ndarray
    qrels: dict[str, dict[str, int]]


def load_split(engine: SearchEngine, beir: Path, split: str) -> Split:
    qrels = load_qrels(beir / "qrels" / f"{split}.tsv")
    texts = {}
    for line in (beir / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["_id"] in qrels:
            texts[record["_id"]] = record["text"]
    ids = sorted(texts)
    asked = [texts[q] for q in ids]
    return Split(ids, asked, engine.embedder.encode_queries(asked), qrels)


@contextmanager
def tokenisation(name: str) -> Iterator[None]:
    """Swap the tokeniser's stop words or stemmer for one variant, everywhere it is used."""
    import Stemmer  # type: ignore[import-not-found]

    saved = (indexer.tokens.STOPWORDS, indexer.tokens.stem)
    analysed: dict[str, list[str]] = {}

    def cached(text: str) -> list[str]:  # the BM25 grid re-indexes the same texts: analyse each once
        if text not in analysed:
            analysed[text] = indexer.tokens.analyse(text)
        return analysed[text]

    setattr(indexer.lexical, "analyse", cached)  # noqa: B010
    if name == "snowball, stop words kept":
        indexer.tokens.STOPWORDS = frozenset()
    elif name in ("porter", "none"):
        porter = Stemmer.Stemmer("porter")
        chosen = (lambda w: w) if name == "none" else porter.stemWord
        indexer.tokens.stem = chosen  # type: ignore[assignment]
        setattr(indexer.lexical, "stem", chosen)  # noqa: B010  # the name indexer.lexical imported
    try:
        yield
    finally:
        indexer.tokens.STOPWORDS, indexer.tokens.stem = saved
        setattr(indexer.lexical, "stem", saved[1])  # noqa: B010
        setattr(indexer.lexical, "analyse", indexer.tokens.analyse)  # noqa: B010


def candidates(engine: SearchEngine, split: Split) -> list[Candidates]:
    pairs = zip(split.texts, split.vectors, strict=True)
    return [engine.candidates(text, vector, Mode.HYBRID, POOL) for text, vector in pairs]


def ndcg(found: Sequence[Candidates], split: Split, doc_of: dict[int, str], options: SearchOptions) -> float:
    rankings = {}
    for query_id, each in zip(split.ids, found, strict=True):
        fused = fuse(each, options, Mode.HYBRID)
        ranked = sorted(fused, key=fused.__getitem__, reverse=True)[:POOL]
        rankings[query_id] = list(dict.fromkeys(doc_of[p] for p in ranked))
    return document_scores(rankings, split.qrels)[0]


def main(argv: Sequence[str] | None = None) -> None:
    from benchmarks.bench_collection import _rows

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--beir", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="Snowball only, a smaller BM25 grid.")
    args = parser.parse_args(argv)
    store = LocalStore(args.index)
    engine = SearchEngine(store, load_embedder())
    train, test = load_split(engine, args.beir, "train"), load_split(engine, args.beir, "test")
    doc_of = {pid: p.doc_id for pid, p in store.passages([int(i) for i in store.ids]).items()}
    rows, documents = _rows(store.build_dir)
    work = Path(tempfile.mkdtemp(prefix="seedsearch-tune-lexical-"))
    results: list[tuple[float, str, Bm25, SearchOptions]] = []
    try:
        grid = [("snowball", s) for s in (QUICK_GRID if args.quick else BM25_GRID)]
        grid += [] if args.quick else [(name, Bm25()) for name in TOKENISATIONS[1:]]
        for name in dict.fromkeys(n for n, _ in grid):
            with tokenisation(name):
                for scoring in (s for n, s in grid if n == name):
                    folder = work / "lexical"
                    shutil.rmtree(folder, ignore_errors=True)
                    write_lexical_index(folder, rows, documents, scoring)
                    store.lexical_index = LexicalIndex(folder)
                    found = candidates(engine, train)
                    best = max(((ndcg(found, train, doc_of, o), o) for o in FUSION_GRID), key=lambda pair: pair[0])
                    print(f"{name:26s} {scoring} train nDCG@10 {best[0]:.4f} at {_shown(best[1])}", flush=True)
                    results.append((best[0], name, scoring, best[1]))
        score, name, scoring, options = max(results, key=lambda r: r[0])
        print(f"best on train: {name}, {scoring}, {_shown(options)}: {score:.4f}")
        for label, (n, s, o) in {"chosen": (name, scoring, options),
                                 "current": ("snowball", Bm25(), SearchOptions())}.items():
            with tokenisation(n):
                shutil.rmtree(work / "lexical", ignore_errors=True)
                write_lexical_index(work / "lexical", rows, documents, s)
                store.lexical_index = LexicalIndex(work / "lexical")
                found = candidates(engine, test)
            print(f"{label}: test nDCG@10 {ndcg(found, test, doc_of, o):.4f} ({n}, {s}, {_shown(o)})")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        store.close()


def _shown(options: SearchOptions) -> dict[str, Any]:
    return {"dense_weight": options.dense_weight, "document_weight": options.document_weight}


if __name__ == "__main__":
    main()
