"""A stand-in for :class:`ui.client.ApiClient` that answers from memory and records what the page asked."""

from __future__ import annotations

from dataclasses import dataclass, field

from search_api.contract import (
    Context,
    ContextPassage,
    DocumentRef,
    EntityRef,
    Facets,
    Health,
    SearchHit,
    SearchRequest,
    SearchResponse,
    Span,
    Speaker,
    Stats,
    Unavailable,
    Why,
)
from ui.client import ApiError, ApiUnreachable

TUSK_TEXT = (
    "UK Prime Minister Keir Starmer said signing the declaration paves the way. "
    "Polish Prime Minister Donald Tusk welcomed the security guarantees but said on X that he remained "
    "sceptical about Russia's intentions."
)
TUSK_SENTENCE = TUSK_TEXT[TUSK_TEXT.index("Polish") :]

POLAND = EntityRef(id="country:PL", name="Poland")
UK = EntityRef(id="country:GB", name="United Kingdom")
TUSK = Speaker(
    speaker="Donald Tusk", title="Polish Prime Minister", affiliations=["country:PL"], affiliation_names=["Poland"]
)


def hit(
    rank: int = 1,
    text: str = TUSK_TEXT,
    highlights: tuple[Span, ...] = (Span(start=TUSK_TEXT.index("Polish"), end=len(TUSK_TEXT)),),
    speakers: tuple[Speaker, ...] = (TUSK,),
    entities: tuple[EntityRef, ...] = (POLAND, UK),
    passage_id: int = 7,
    score: float = 0.91,
    title: str = "US backs security guarantees for Ukraine",
    section: str | None = "Future of Europe at stake",
    doc_id: str = "000_seed.txt",
    why: Why | None = None,
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
        why=why,
    )


@dataclass
class FakeClient:
    """Answers like the API would; set ``unreachable``/``health_answer``/``search_error`` to simulate trouble."""

    base_url: str = "http://api.test:8123"
    hits: tuple[SearchHit, ...] = field(default_factory=lambda: (hit(),))
    health_answer: Health | Unavailable = field(
        default_factory=lambda: Health(documents=1, passages=23, building=False)
    )
    unreachable: bool = False
    search_error: ApiError | None = None
    stats_answer: Stats = field(
        default_factory=lambda: Stats(
            documents=1,
            passages=23,
            model="sentence-transformers/all-MiniLM-L6-v2",
            dimension=384,
            built_at="2025-11-26T15:30:00+00:00",
            index_kind="flat",
            backend="onnx",
        )
    )
    facets_answer: Facets = field(
        default_factory=lambda: Facets(
            documents=[DocumentRef(doc_id="000_seed.txt", title="US backs security guarantees for Ukraine")],
            speakers=["Donald Tusk", "Keir Starmer"],
            entities=[POLAND, UK],
        )
    )
    searches: list[SearchRequest] = field(default_factory=list)
    contexts: list[int] = field(default_factory=list)
    closed: bool = False

    def _check(self) -> None:
        if self.unreachable:
            raise ApiUnreachable(self.base_url, "ConnectError")

    def health(self) -> Health | Unavailable:
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
        return SearchResponse(
            query=request.query, mode=request.mode, took_ms=4.2, results=list(self.hits[: request.k])
        )

    def context(self, passage_id: int, window: int = 1) -> Context:
        self._check()
        self.contexts.append(passage_id)
        section = "Future of Europe at stake"
        return Context(
            doc_id="000_seed.txt",
            title="US backs security guarantees for Ukraine",
            passages=[
                ContextPassage(passage_id=passage_id - 1, position=0, text="The passage before the hit."),
                ContextPassage(passage_id=passage_id, position=1, text=TUSK_TEXT, section=section, is_hit=True),
                ContextPassage(
                    passage_id=passage_id + 1, position=2, text="The passage after the hit.", section=section
                ),
            ],
        )

    def close(self) -> None:
        self.closed = True
