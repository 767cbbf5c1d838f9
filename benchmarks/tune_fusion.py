"""Choose the fusion settings on a BEIR train split (never on test).

Asks the real engine once per query for its candidates (dense, best sentence, passage BM25, document BM25), then replays
`search_api.fusion.fuse` with each setting and prints document nDCG@10 (a document ranks where its best
passage ranks). The statement boost is left out: it only acts on questions about what a party said.

    python -m benchmarks.tune_fusion --index /tmp/scifact-index --beir ../shared/datasets/scifact --split train
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from indexer.embedding import load_embedder
from indexer.local_store import LocalStore as LoadedIndex
from search_api.engine import SearchEngine
from search_api.evaluation import document_scores, load_qrels
from search_api.fusion import SearchOptions, fuse


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--beir", type=Path, required=True)
    parser.add_argument("--split", default="train")
    args = parser.parse_args()

    engine = SearchEngine(LoadedIndex(args.index), load_embedder())
    qrels = load_qrels(args.beir / "qrels" / f"{args.split}.tsv")
    texts = {}
    for line in (args.beir / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["_id"] in qrels:
            texts[record["_id"]] = record["text"]
    ids = sorted(texts)
    vectors = engine.embedder.encode_queries([texts[q] for q in ids])
    pool = engine.options.candidates
    found = [engine.candidates(texts[q], v, "hybrid", pool) for q, v in zip(ids, vectors, strict=True)]
    passage_ids = sorted({p for f in found for p in f.dense.keys() | f.lexical.keys()})
    doc_of = {p.id: p.doc_id for p in engine.index.passages(passage_ids).values()}

    settings = [SearchOptions(fusion="rrf", rrf_k=k, document_weight=0) for k in (10, 30, 60)]
    settings += [
        SearchOptions(dense_scores=scores, dense_weight=w / 20, document_weight=a, sentence_weight=s)
        for scores in ("minmax", "cosine")
        for w in range(6, 19)
        for a in (0.0, 0.5, 1.0, 2.0)
        for s in (0.0, 1.0, 2.0, 3.0)
    ]
    print(f"{args.split}: {len(ids)} queries; dense alone, lexical alone, then each fusion setting")
    for mode in ("dense", "lexical"):
        print(f"  {mode:8s} nDCG@10 {score(found, ids, qrels, doc_of, SearchOptions(), mode):.4f}")
    tuned = ("fusion", "rrf_k", "dense_scores", "dense_weight", "document_weight", "sentence_weight")
    for options in settings:
        shown = {k: v for k, v in dataclasses.asdict(options).items() if k in tuned}
        print(f"  {shown} nDCG@10 {score(found, ids, qrels, doc_of, options, 'hybrid'):.4f}")


def score(found, ids, qrels, doc_of, options, mode) -> float:  # type: ignore[no-untyped-def]
    rankings = {}
    for query_id, candidates in zip(ids, found, strict=True):
        fused = fuse(candidates, options, mode)
        rankings[query_id] = list(dict.fromkeys(doc_of[p] for p in sorted(fused, key=fused.__getitem__, reverse=True)))
    return document_scores(rankings, qrels)[0]


if __name__ == "__main__":
    main()
