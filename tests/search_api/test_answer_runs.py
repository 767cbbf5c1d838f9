"""A hit shows its passage with the neighbouring passages of its run; a run is shown once; 0 turns it off."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.embedding import FakeEmbedder
from indexer.local_store import LocalStore
from search_api.answers import SEPARATOR
from search_api.engine import SearchEngine
from search_api.evaluation import engine_search
from search_api.fusion import SearchOptions
from search_api.highlights import best_sentence_in_run
from search_api.question import parse_question

LEAD = "Finance minister Jan Kowalski rejected the bank proposal on Monday."
QUOTE = '"We will not accept a plan that punishes savers," Kowalski told reporters in Warsaw.'
BACKGROUND = "The proposal was drafted by a group of creditor banks last month."
OTHER = "Cocoa arrivals in the Bahia zone rose to 155,221 bags in the week."


@pytest.fixture
def news_index(tmp_path: Path) -> Path:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "bank.txt").write_text(f"Bank plan\n\n{LEAD}\n\n{QUOTE}\n\n{BACKGROUND}\n\n{OTHER}\n")
    index = tmp_path / "index"
    build_index([sources], index, FakeEmbedder(dimension=32))
    return index


def runs_by_text(store: LocalStore, max_chars: int) -> list[list[str]]:
    ids = sorted(store.database.doc_ids(list(range(1, 100))))
    runs = store.answer_windows(ids, max_chars)
    passages = store.passages(ids)
    return [[passages[m].text for m in run] for run in dict.fromkeys(runs[i] for i in ids)]


def test_a_document_is_cut_into_runs_of_consecutive_passages_within_the_budget(news_index: Path) -> None:
    store = LocalStore(news_index)
    assert runs_by_text(store, 250) == [[LEAD, QUOTE, BACKGROUND], [OTHER]]
    assert runs_by_text(store, 160) == [[LEAD, QUOTE], [BACKGROUND, OTHER]]
    assert runs_by_text(store, 60) == [[LEAD], [QUOTE], [BACKGROUND], [OTHER]]  # longer than the budget: alone


def test_a_hit_shows_its_run_and_a_run_is_not_shown_twice(news_index: Path) -> None:
    engine = SearchEngine(LocalStore(news_index), FakeEmbedder(dimension=32), SearchOptions(answer_chars=250))
    hits = engine_search(engine, "lexical")(["What did Kowalski say about the bank proposal?"], 5)[0]
    first = hits[0]
    assert first.text == SEPARATOR.join([LEAD, QUOTE, BACKGROUND])
    assert first.passage_id in first.passages and len(first.passages) == 3
    assert first.end - first.start == len(first.text)  # offsets span the run in the document
    shown = [tuple(hit.passages) for hit in hits]
    assert len(shown) == len(set(shown)), "the same run came back twice"
    assert not set(first.passages) & {p for hit in hits[1:] for p in hit.passages}


def test_answer_chars_zero_gives_each_passage_alone(news_index: Path) -> None:
    engine = SearchEngine(LocalStore(news_index), FakeEmbedder(dimension=32), SearchOptions(answer_chars=0))
    hits = engine_search(engine, "lexical")(["What did Kowalski say about the bank proposal?"], 5)[0]
    assert all(hit.passages == [hit.passage_id] for hit in hits)
    assert {hit.text for hit in hits} >= {LEAD, QUOTE}


def test_the_highlight_is_the_answering_sentence_anywhere_in_the_run(news_index: Path) -> None:
    store = LocalStore(news_index)
    ids = sorted(store.database.doc_ids(list(range(1, 100))))
    run = tuple(store.passages(ids)[i] for i in store.answer_windows(ids, 250)[ids[0]])
    question = "Who told reporters in Warsaw about savers?"
    ((start, end),) = best_sentence_in_run(run, SearchEngine.lexical_terms(question), parse_question(question))
    assert SEPARATOR.join(p.text for p in run)[start:end] == QUOTE


def test_a_statement_hit_shows_the_parties_words_from_further_down_its_story(tmp_path: Path) -> None:
    lead = "Polish Finance Minister Piotr Kowalski rejected the creditor banks' proposal on Monday."
    filler = [f"Background paragraph {n} on the history of the bank talks and their many delays." for n in range(3)]
    quote = '"We will not accept a plan that punishes savers," Kowalski told reporters.'
    other = "Hungary's economy minister said Budapest would study the proposal."
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "talks.txt").write_text("\n\n".join(["Bank talks", lead, *filler, quote, other]) + "\n")
    index = tmp_path / "index"
    build_index([sources], index, FakeEmbedder(dimension=32))
    engine = SearchEngine(LocalStore(index), FakeEmbedder(dimension=32), SearchOptions(answer_chars=250))
    search = engine_search(engine, "lexical")

    first = search(["What did Poland say about the creditor banks' proposal?"], 5)[0][0]
    assert first.text == SEPARATOR.join([lead, filler[0], quote])  # the quote first, then the lead's neighbour
    assert not any(quote in hit.text for hit in search(["What did Poland say about the proposal?"], 5)[0][1:])

    plain = search(["creditor banks proposal"], 5)[0][0]  # no party asked: consecutive paragraphs as before
    assert plain.text.startswith(SEPARATOR.join([lead, filler[0]]))


def test_a_topical_hit_for_a_party_question_shows_the_party_words_from_its_story(tmp_path: Path) -> None:
    topical = "The bill would let ministers impose control orders, curfews and electronic tags on suspects."
    filler = [f"Background paragraph {n} on the history of the terror laws and their many delays." for n in range(3)]
    quote = '"A judge, not a politician, must decide," Polish Justice Minister Piotr Kowalski said.'
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "bill.txt").write_text("\n\n".join(["Terror bill", topical, *filler, quote]) + "\n")
    index = tmp_path / "index"
    build_index([sources], index, FakeEmbedder(dimension=32))
    engine = SearchEngine(LocalStore(index), FakeEmbedder(dimension=32), SearchOptions(answer_chars=250))
    search = engine_search(engine, "lexical")

    first = search(["What did Poland say about control orders and curfews?"], 5)[0][0]
    assert topical in first.text and quote in first.text
    plain = search(["control orders and curfews"], 5)[0][0]  # no party asked: consecutive paragraphs
    assert topical in plain.text and quote not in plain.text
