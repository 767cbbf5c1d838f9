"""Answer-quality measures: ir-measures (trec_eval's implementation) checked against the textbook formulas."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from search_api.contract import SearchHit
from search_api.evaluation import SearchFn, document_scores, evaluate_beir, evaluate_questions, load_qrels
from tests.paths import SCIFACT, shared_file


def reference_ndcg(ranking: Sequence[str], relevance: dict[str, int], k: int) -> float:
    """nDCG@k with linear gains, written out (what the hand-made code computed before ir-measures)."""
    dcg = sum(relevance.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranking[:k]))
    ideal = sorted(relevance.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def reference_recall(ranking: Sequence[str], relevance: dict[str, int], k: int) -> float:
    relevant = {doc for doc, grade in relevance.items() if grade > 0}
    return len(relevant & set(ranking[:k])) / len(relevant) if relevant else 0.0


def hit(rank: int, doc_id: str, text: str = "") -> SearchHit:
    return SearchHit(rank=rank, score=1.0 / rank, passage_id=rank, doc_id=doc_id, title=doc_id, text=text)


def test_scores_of_a_small_case_worked_by_hand() -> None:
    qrels = {"q1": {"a": 1, "b": 1}, "q2": {"c": 1}}
    ndcg, recall = document_scores({"q1": ["a", "x", "b"], "q2": []}, qrels)
    q1 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg == pytest.approx(q1 / 2) and recall == pytest.approx(0.5)  # q2 found nothing: it counts as 0


def test_scifact_qrels_with_random_rankings_agree_with_the_formulas() -> None:
    qrels = load_qrels(shared_file(SCIFACT / "qrels" / "test.tsv"))
    corpus = sorted({doc for judged in qrels.values() for doc in judged})
    chance = random.Random(7)
    rankings = {}
    for query, judged in qrels.items():
        pool = chance.sample(corpus, 150) + list(judged)
        chance.shuffle(pool)
        rankings[query] = list(dict.fromkeys(pool))
    ndcg, recall = document_scores(rankings, qrels)
    assert ndcg == pytest.approx(sum(reference_ndcg(rankings[q], qrels[q], 10) for q in qrels) / len(qrels))
    assert recall == pytest.approx(sum(reference_recall(rankings[q], qrels[q], 100) for q in qrels) / len(qrels))


def test_beir_report_ranks_a_document_where_its_best_passage_ranks(tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tgood\t1\n", encoding="utf-8")
    (tmp_path / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "which one?"}) + "\n", encoding="utf-8")

    def search(queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        return [[hit(1, "other"), hit(2, "other"), hit(3, "good")] for _ in queries]

    report = evaluate_beir(search, tmp_path)
    assert report.queries == 1 and report.recall_at_100 == 1.0
    assert report.ndcg_at_10 == pytest.approx(1 / math.log2(3))  # "good" is the second document


def test_question_report_counts_the_rank_of_the_first_answering_passage(tmp_path: Path) -> None:
    questions = tmp_path / "questions.jsonl"
    lines = [{"id": "a", "question": "first?", "gold": ["Warsaw"]}, {"id": "b", "question": "third?", "gold": ["Kyiv"]}]
    questions.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    answers = {"first?": ["In Warsaw today."], "third?": ["No.", "Nothing.", "It was Kyiv."]}

    def search(queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        return [[hit(i, "d", text) for i, text in enumerate(answers[q], start=1)] for q in queries]

    run: SearchFn = search
    report = evaluate_questions(run, questions)
    assert (report.hit_at_1, report.hit_at_3, report.mrr_at_5) == (0.5, 1.0, pytest.approx((1 + 1 / 3) / 2))
    assert [m.id for m in report.misses] == ["b"]
