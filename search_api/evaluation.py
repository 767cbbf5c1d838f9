"""Answer quality, measured through the same search path the API serves.

Question sets (`../shared/eval/README.md`): hit@1, hit@3 and MRR@5 of the first answering passage.
BEIR datasets: nDCG@10 and recall@100 over documents, a document ranked where its best passage ranks, computed
by `ir-measures` (trec_eval's implementation).
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import ir_measures

from search_api.contract import MAX_K, Mode, SearchHit, SearchResponse
from search_api.engine import SearchEngine
from search_api.responses import search_hit

MAX_ANSWER_CHARS = 1000
#: Ranked hits for each of a batch of questions, at most `k` each.
SearchFn = Callable[[Sequence[str], int], list[list[SearchHit]]]
NDCG_AT_10 = ir_measures.nDCG @ 10
RECALL_AT_100 = ir_measures.R @ 100
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})


def normalise(text: str) -> str:
    """NFKC, straight quotes, folded white space and case, as the question-set format prescribes."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return re.sub(r"\s+", " ", text).strip().casefold()


def answers(passage_text: str, gold: Sequence[str]) -> bool:
    if len(passage_text) > MAX_ANSWER_CHARS:
        return False
    haystack = normalise(passage_text)
    return any(normalise(phrase) in haystack for phrase in gold)


@dataclass(frozen=True)
class QuestionOutcome:
    id: str
    question: str
    rank: int | None
    top: list[str]
    speakers: list[str] = field(default_factory=list)  # "speaker (affiliations)" in each of the top 3 passages


@dataclass(frozen=True)
class QuestionReport:
    questions: int
    hit_at_1: float
    hit_at_3: float
    mrr_at_5: float
    outcomes: list[QuestionOutcome] = field(default_factory=list)

    @property
    def misses(self) -> list[QuestionOutcome]:
        return [o for o in self.outcomes if o.rank != 1]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["misses"] = [asdict(m) for m in self.misses]
        del data["outcomes"]
        return data

    def render(self) -> str:
        lines = [
            f"questions {self.questions}  hit@1 {self.hit_at_1:.3f}  hit@3 {self.hit_at_3:.3f}  "
            f"MRR@5 {self.mrr_at_5:.3f}"
        ]
        for miss in self.misses:
            where = f"rank {miss.rank}" if miss.rank else "not in top 5"
            lines.append(f"  {miss.id}: {miss.question!r} -> {where}; first: {miss.top[0][:100] if miss.top else '-'}")
            lines.extend(f"      speakers in #{n}: {who}" for n, who in enumerate(miss.speakers, start=1) if who)
        return "\n".join(lines)


def engine_search(engine: SearchEngine, mode: Mode) -> SearchFn:
    """Search through an engine in this process."""

    def run(queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        results = engine.search_batch(list(queries), k=k, mode=mode)
        return [[search_hit(hit, engine.resolver) for hit in result.hits] for result in results]

    return run


def api_search(base_url: str, mode: Mode, api_key: str | None = None) -> SearchFn:
    """Search through a running HTTP API, for measuring exactly what clients get."""
    import httpx

    headers = {"X-API-Key": api_key} if api_key else {}
    client = httpx.Client(base_url=base_url, timeout=60, headers=headers)

    def run(queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        out = []
        for query in queries:
            # The API caps k at MAX_K passages; BEIR recall@100 over documents then counts fewer documents.
            response = client.post("/search", json={"query": query, "k": min(k, MAX_K), "mode": mode})
            response.raise_for_status()
            out.append(SearchResponse.model_validate_json(response.content).results)
        return out

    return run


def evaluate_questions(run: SearchFn, path: Path) -> QuestionReport:
    """hit@1, hit@3 and MRR@5 over a JSONL question set."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not items:
        raise ValueError(f"{path} holds no questions: one JSON object a line, see ../shared/eval/README.md")
    hits_per_question = run([item["question"] for item in items], 5)
    outcomes = []
    for item, hits in zip(items, hits_per_question, strict=True):
        rank = next((h.rank for h in hits if answers(h.text, item["gold"])), None)
        speakers = [_speakers(h) for h in hits[:3]]
        outcomes.append(
            QuestionOutcome(item.get("id", ""), item["question"], rank, [h.text for h in hits[:3]], speakers)
        )
    n = len(outcomes)
    return QuestionReport(
        questions=n,
        hit_at_1=sum(o.rank == 1 for o in outcomes) / n,
        hit_at_3=sum(o.rank is not None and o.rank <= 3 for o in outcomes) / n,
        mrr_at_5=sum(1 / o.rank for o in outcomes if o.rank) / n,
        outcomes=outcomes,
    )


def _speakers(hit: SearchHit) -> str:
    """The speakers a hit's passage quotes, each with the parties it speaks for: why it ranked where it did."""
    return "; ".join(
        f"{s.speaker} ({', '.join(s.affiliation_names or s.affiliations) or 'no party'})" for s in hit.speakers
    )


@dataclass(frozen=True)
class BeirReport:
    dataset: str
    split: str
    queries: int
    ndcg_at_10: float
    recall_at_100: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def render(self) -> str:
        return (
            f"{self.dataset} ({self.split}, {self.queries} queries): nDCG@10 {self.ndcg_at_10:.4f}  "
            f"recall@100 {self.recall_at_100:.4f}"
        )


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return qrels


def evaluate_beir(run: SearchFn, folder: Path, *, split: str = "test", passages_per_query: int = 300) -> BeirReport:
    """nDCG@10 and recall@100 over documents of a BEIR dataset whose corpus is in the index."""
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.exists():
        raise ValueError(f"{qrels_path} does not exist: pick a split that {folder / 'qrels'} has")
    qrels = load_qrels(qrels_path)
    queries = {}
    with (folder / "queries.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["_id"] in qrels:
                queries[record["_id"]] = record["text"]
    ids = sorted(queries)
    if not ids:
        raise ValueError(f"{folder / 'queries.jsonl'} holds none of the queries of {qrels_path}: check the dataset")
    rankings: dict[str, list[str]] = {}
    for start in range(0, len(ids), 64):
        chunk = ids[start : start + 64]
        for query_id, hits in zip(chunk, run([queries[q] for q in chunk], passages_per_query), strict=True):
            rankings[query_id] = list(dict.fromkeys(h.doc_id for h in hits))
    ndcg, recall = document_scores(rankings, qrels)
    return BeirReport(folder.name, split, len(ids), ndcg, recall)


def document_scores(rankings: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> tuple[float, float]:
    """Mean nDCG@10 and recall@100 of ranked document ids over the queries of `rankings` (trec_eval's way)."""
    # Scores that fall with the rank, so trec_eval (which sorts by score) keeps our order.
    run = {q: {doc: float(len(ranking) - i) for i, doc in enumerate(ranking)} for q, ranking in rankings.items()}
    scores = ir_measures.calc_aggregate([NDCG_AT_10, RECALL_AT_100], {q: qrels[q] for q in rankings}, run)
    return float(scores[NDCG_AT_10]), float(scores[RECALL_AT_100])
