"""Pages and dates out of every hit; since/until filters applied inside the store; sort by date."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from indexer.build import build_index
from indexer.embedding import FakeEmbedder
from indexer.local_store import LocalStore
from indexer.store import LexicalQuery, PassageFilter
from tests.indexer.formats.fixtures import PdfPage, two_column_pdf
from tests.search_api.test_api import make_client

STORIES = [
    ("early", "1987-02-26", "Zinc smelter output in Peru fell during the strike at the port."),
    ("middle", "1987-03-15T10:30:00+02:00", "Zinc smelter output in Chile rose after the new furnace opened."),
    ("late", "1987-04-02", "Zinc smelter output in Canada held steady despite floods."),
    ("undated", None, "Zinc smelter output in Spain is not dated in this record."),
]
PDF = "orchards.pdf"  # created 2026-03-14
PAGE_ONE = ["The orchard survey counted apple trees along the northern valley.", "Most trees were young."]
PAGE_TWO = ["Pear blossom arrived three weeks early in the southern terraces.", "Growers expect a large crop."]


@pytest.fixture(scope="module")
def dated_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dated")
    sources = root / "sources"
    sources.mkdir()
    records = [{"id": i, "text": t, **({"date": d} if d else {})} for i, d, t in STORIES]
    (sources / "stories.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    pages = [PdfPage(PAGE_ONE, ["Apples dominate the valley."]), PdfPage(PAGE_TWO, ["Pears lead in the south."])]
    (sources / "orchards.pdf").write_bytes(two_column_pdf(pages, title="Orchard survey"))
    build_index([sources], root / "index", FakeEmbedder(dimension=32))
    return root / "index"


@pytest.fixture(scope="module")
def client(dated_index: Path) -> Iterator[TestClient]:
    with make_client(dated_index) as c:
        yield c


def search(client: TestClient, **params: object) -> list[dict[str, object]]:
    response = client.get("/search", params={"k": 10, "mode": "lexical"} | params)
    assert response.status_code == 200, response.text
    results: list[dict[str, object]] = response.json()["results"]
    return results


def test_pdf_hits_carry_their_page_and_others_none(client: TestClient) -> None:
    pear = search(client, q="pear blossom southern terraces")[0]
    apple = search(client, q="orchard survey apple trees northern valley")[0]
    assert pear["doc_id"] == apple["doc_id"] == "orchards.pdf"
    assert (apple["page"], pear["page"]) == (1, 2)
    assert pear["published"] == "2026-03-14T09:30:00+00:00"  # the PDF's creation date
    zinc = search(client, q="zinc smelter output")
    assert {hit["doc_id"]: hit["published"] for hit in zinc} == {
        "early": "1987-02-26", "middle": "1987-03-15T10:30:00+02:00", "late": "1987-04-02", "undated": None,
    }
    assert all(hit["page"] is None for hit in zinc)


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("1987-03-01", None, {"middle", "late", PDF}),
        (None, "1987-03-15", {"early", "middle"}),  # a date includes its whole day
        (None, "1987-03-15T08:29:59Z", {"early"}),  # 10:30+02:00 is 08:30 UTC
        ("1987-03-15T08:30:00Z", "1987-03-15T08:30:00Z", {"middle"}),
        ("1987-02-27", "1987-04-01", {"middle"}),
        ("1990-01-01", None, {PDF}),
        ("2027-01-01", None, set()),
    ],
)
def test_since_and_until_filter_by_publication(
    client: TestClient, since: str | None, until: str | None, expected: set[str]
) -> None:
    """Dense search returns every allowed passage (k is larger than the index); lexical only those with 'zinc'."""
    dates = {key: value for key, value in (("since", since), ("until", until)) if value}
    for mode in ("dense", "hybrid"):
        found = {hit["doc_id"] for hit in search(client, q="zinc smelter output", mode=mode, k=50, **dates)}
        assert found == expected, mode
    lexical = {hit["doc_id"] for hit in search(client, q="zinc smelter output", **dates)}
    assert lexical == expected - {PDF}
    body = {"query": "zinc smelter output", "k": 50, "mode": "dense", **dates}
    posted = client.post("/search", json=body).json()["results"]
    assert {hit["doc_id"] for hit in posted} == expected


def test_filters_apply_inside_the_store(dated_index: Path) -> None:
    store = LocalStore(dated_index)
    try:
        where = PassageFilter(since="1987-03-01", until="1987-03-31")
        found = store.lexical(LexicalQuery(("zinc",)), 10, where)
        assert {store.passages(list(found.passages))[i].doc_id for i in found.passages} == {"middle"}
        vector = FakeEmbedder(dimension=32).encode_queries(["zinc"])[0]
        dense = store.dense(vector, 10, where)
        assert {p.doc_id for p in store.passages(list(dense)).values()} == {"middle"}
    finally:
        store.close()


def test_sort_by_date_puts_the_newest_first_and_undated_last(client: TestClient) -> None:
    hits = search(client, q="zinc smelter output", sort="date")
    assert [hit["doc_id"] for hit in hits] == ["late", "middle", "early", "undated"]
    assert [hit["rank"] for hit in hits] == [1, 2, 3, 4]
    by_relevance = search(client, q="zinc smelter output")
    assert {h["passage_id"] for h in by_relevance} == {h["passage_id"] for h in hits}


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"since": "yesterday"}, "ISO 8601"),
        ({"until": "2026-02-30"}, "ISO 8601"),
        ({"since": "1987"}, "ISO 8601"),
        ({"since": "1987-05-01", "until": "1987-04-01"}, "after until"),
        ({"sort": "newest"}, "relevance"),
    ],
)
def test_bad_dates_and_sorts_are_422s_that_say_the_format(
    client: TestClient, params: dict[str, str], needle: str
) -> None:
    for response in (
        client.get("/search", params={"q": "zinc", **params}),
        client.post("/search", json={"query": "zinc", **params}),
    ):
        assert response.status_code == 422, response.text
        assert needle in response.text


def test_an_older_index_gains_dates_and_pages_without_re_embedding(
    dated_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readers serve a database from before the columns (no dates, no pages); the next build adds them, reusing
    every vector because the columns came with an `ANALYSIS_VERSION` bump, not a format change."""
    import shutil
    import sqlite3

    from indexer import build
    from indexer.index_dir import DATABASE, resolve_build

    old = tmp_path / "index"
    shutil.copytree(dated_index, old, symlinks=True)
    database = resolve_build(old) / DATABASE
    with sqlite3.connect(database) as conn:
        conn.executescript(
            "DROP INDEX documents_by_date; ALTER TABLE documents DROP COLUMN published;"
            " ALTER TABLE documents DROP COLUMN published_key; ALTER TABLE passages DROP COLUMN page;"
        )
    store = LocalStore(old)
    assert all(p.page is None and p.published is None for p in store.passages(list(range(1, 50))).values())
    vector = FakeEmbedder(dimension=32).encode_queries(["zinc"])[0]
    assert store.dense(vector, 5, PassageFilter(since="1980-01-01")) == {}
    store.close()
    monkeypatch.setattr(build, "ANALYSIS_VERSION", build.ANALYSIS_VERSION + 1)
    sources = Path(json.loads((resolve_build(dated_index) / "manifest.json").read_text())["extra"]["sources"][0])
    report = build.build_index([sources], old, FakeEmbedder(dimension=32))
    assert report.embedded_passages == 0 and report.reused_passages == report.passages
    store = LocalStore(old)
    assert {p.page for p in store.passages(list(range(1, 50))).values() if p.doc_id == PDF} == {1, 2}
    store.close()
