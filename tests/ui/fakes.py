"""A stand-in for :class:`ui.client.ApiClient` that answers from memory and records what the page asked."""

from __future__ import annotations

from dataclasses import dataclass, field

from ui.client import (
    ApiError,
    ApiUnreachable,
    ContextPassage,
    DocumentFacet,
    Entity,
    Facets,
    Health,
    Highlight,
    PassageContext,
    SearchHit,
    SearchRequest,
    SearchResponse,
    Speaker,
    Stats,
)

TUSK_TEXT = (
    "UK Prime Minister Keir Starmer said signing the declaration paves the way. "
    "Polish Prime Minister Donald Tusk welcomed the security guarantees but said on X that he remained "
    "sceptical about Russia's intentions."
)
TUSK_SENTENCE = TUSK_TEXT[TUSK_TEXT.index("Polish") :]

POLAND = Entity("country:PL", "Poland")
UK = Entity("country:GB", "United Kingdom")
TUSK = Speaker("Donald Tusk", "Polish Prime Minister", ("country:PL",), ("Poland",))


def hit(
    rank: int = 1,
    text: str = TUSK_TEXT,
    highlights: tuple[Highlight, ...] = (Highlight(TUSK_TEXT.index("Polish"), len(TUSK_TEXT)),),
    speakers: tuple[Speaker, ...] = (TUSK,),
    entities: tuple[Entity, ...] = (POLAND, UK),
    passage_id: int = 7,
    score: float = 0.91,
    title: str = "US backs security guarantees for Ukraine",
    section: str | None = "Future of Europe at stake",
    doc_id: str = "000_seed.txt",
) -> SearchHit:
    """A search hit, by default Donald Tusk's statement with its sentence highlighted."""
    return SearchHit(
        rank=rank,
        score=score,
        passage_id=passage_id,
        doc_id=doc_id,
        title=title,
        text=text,
        section=section,
        start=0,
        end=len(text),
        highlights=highlights,
        speakers=speakers,
        entities=entities,
    )


@dataclass
class FakeClient:
    """Answers like the API would; set ``unreachable``/``health_answer``/``search_error`` to simulate trouble."""

    base_url: str = "http://api.test:8123"
    hits: tuple[SearchHit, ...] = field(default_factory=lambda: (hit(),))
    health_answer: Health = field(default_factory=lambda: Health(ok=True, documents=1, passages=23))
    unreachable: bool = False
    search_error: ApiError | None = None
    stats_answer: Stats = field(
        default_factory=lambda: Stats(
            documents=1,
            passages=23,
            model="sentence-transformers/all-MiniLM-L6-v2",
            dimension=384,
            built_at="2025-11-26T15:30:00+00:00",
        )
    )
    facets_answer: Facets = field(
        default_factory=lambda: Facets(
            documents=(DocumentFacet("000_seed.txt", "US backs security guarantees for Ukraine"),),
            speakers=("Donald Tusk", "Keir Starmer"),
            entities=(POLAND, UK),
        )
    )
    searches: list[SearchRequest] = field(default_factory=list)
    contexts: list[int] = field(default_factory=list)
    closed: bool = False

    def _check(self) -> None:
        if self.unreachable:
            raise ApiUnreachable(self.base_url, "ConnectError")

    def health(self) -> Health:
        self._check()
        return self.health_answer

    def stats(self) -> Stats:
        self._check()
        return self.stats_answer

    def facets(self) -> Facets:
        self._check()
        return self.facets_answer

    def search(self, request: SearchRequest) -> SearchResponse:
        self._check()
        self.searches.append(request)
        if self.search_error is not None:
            raise self.search_error
        return SearchResponse(query=request.query, mode=request.mode, took_ms=4.2, results=self.hits[: request.k])

    def context(self, passage_id: int, window: int = 1) -> PassageContext:
        self._check()
        self.contexts.append(passage_id)
        return PassageContext(
            doc_id="000_seed.txt",
            title="US backs security guarantees for Ukraine",
            passages=(
                ContextPassage(passage_id - 1, 0, "The passage before the hit.", None),
                ContextPassage(passage_id, 1, TUSK_TEXT, "Future of Europe at stake", is_hit=True),
                ContextPassage(passage_id + 1, 2, "The passage after the hit.", "Future of Europe at stake"),
            ),
        )

    def close(self) -> None:
        self.closed = True
