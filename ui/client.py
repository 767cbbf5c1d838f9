"""A small typed client for the seedsearch HTTP API, used by the Streamlit page.

The page talks to the API only through :class:`ApiClient`, so tests can replace it. Every answer is turned
into frozen dataclasses here; transport failures become :class:`ApiUnreachable` and non-2xx answers become
:class:`ApiError`, both carrying what the page needs to tell the user what to do.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import httpx

DEFAULT_API_URL = "http://127.0.0.1:8000"
API_URL_ENV = "SEEDSEARCH_API_URL"
API_KEY_ENV = "SEEDSEARCH_API_KEY"
API_KEY_HEADER = "X-API-Key"
MODES: tuple[str, ...] = ("hybrid", "dense", "lexical")

Mode = Literal["hybrid", "dense", "lexical"]
T = TypeVar("T")


class ApiUnreachable(Exception):
    """The API did not answer at all (refused, timed out, DNS failure)."""

    def __init__(self, url: str, reason: str = "") -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"the seedsearch API at {url} did not answer{': ' + reason if reason else ''}")


class ApiError(Exception):
    """The API answered with an error status (or with a body the page cannot read)."""

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"API error {status}: {detail}")


@dataclass(frozen=True)
class Highlight:
    """Character span inside a passage text: the answering sentence(s)."""

    start: int
    end: int


@dataclass(frozen=True)
class Speaker:
    """A person quoted in a passage, with their title and affiliations."""

    speaker: str
    title: str | None = None
    affiliations: tuple[str, ...] = ()
    affiliation_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entity:
    """A named entity such as a country (``country:PL`` / ``Poland``)."""

    id: str
    name: str


@dataclass(frozen=True)
class SearchHit:
    """One ranked passage."""

    rank: int
    score: float
    passage_id: int
    doc_id: str
    title: str
    text: str
    section: str | None = None
    start: int = 0
    end: int = 0
    highlights: tuple[Highlight, ...] = ()
    speakers: tuple[Speaker, ...] = ()
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True)
class SearchRequest:
    """What the page asks for; ``None`` filters are not sent."""

    query: str
    k: int = 5
    mode: Mode = "hybrid"
    doc_id: str | None = None
    speaker: str | None = None
    entity: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON body of ``POST /search``."""
        return {
            "query": self.query,
            "k": self.k,
            "mode": self.mode,
            "doc_id": self.doc_id,
            "speaker": self.speaker,
            "entity": self.entity,
        }


@dataclass(frozen=True)
class SearchResponse:
    """Ranked passages and how long the API took."""

    query: str
    mode: str
    took_ms: float
    results: tuple[SearchHit, ...] = ()


@dataclass(frozen=True)
class Health:
    """Whether an index is loaded (``ok``) and whether a rebuild is running."""

    ok: bool
    documents: int = 0
    passages: int = 0
    building: bool = False
    detail: str = ""


@dataclass(frozen=True)
class Stats:
    """What the loaded index holds."""

    documents: int
    passages: int
    model: str = ""
    dimension: int | None = None
    built_at: str | None = None
    index_kind: str | None = None
    backend: str | None = None


@dataclass(frozen=True)
class DocumentFacet:
    """A document the page can filter on."""

    doc_id: str
    title: str


@dataclass(frozen=True)
class Facets:
    """Filter values offered by the API (most frequent first)."""

    documents: tuple[DocumentFacet, ...] = ()
    speakers: tuple[str, ...] = ()
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True)
class ContextPassage:
    """A passage shown around a hit; ``is_hit`` marks the hit itself."""

    passage_id: int
    position: int
    text: str
    section: str | None = None
    start: int = 0
    end: int = 0
    is_hit: bool = False


@dataclass(frozen=True)
class PassageContext:
    """A hit with its neighbouring passages, in document order."""

    doc_id: str
    title: str
    passages: tuple[ContextPassage, ...] = field(default_factory=tuple)


def _detail(response: httpx.Response) -> str:
    """The ``detail`` of an error answer as one readable line."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI validation errors
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = list(item.get("loc") or ())
                if loc and loc[0] in ("body", "query", "path", "header"):  # where FastAPI looked, not what
                    loc = loc[1:]
                where = ".".join(str(p) for p in loc)
                parts.append(f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", "")))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


def _speaker(raw: Mapping[str, Any]) -> Speaker:
    return Speaker(
        speaker=str(raw["speaker"]),
        title=raw.get("title"),
        affiliations=tuple(str(a) for a in raw.get("affiliations") or ()),
        affiliation_names=tuple(str(a) for a in raw.get("affiliation_names") or ()),
    )


def _entity(raw: Mapping[str, Any]) -> Entity:
    return Entity(id=str(raw["id"]), name=str(raw.get("name") or raw["id"]))


def _hit(raw: Mapping[str, Any]) -> SearchHit:
    return SearchHit(
        rank=int(raw["rank"]),
        score=float(raw["score"]),
        passage_id=int(raw["passage_id"]),
        doc_id=str(raw["doc_id"]),
        title=str(raw.get("title") or raw["doc_id"]),
        text=str(raw["text"]),
        section=raw.get("section"),
        start=int(raw.get("start") or 0),
        end=int(raw.get("end") or 0),
        highlights=tuple(Highlight(int(h["start"]), int(h["end"])) for h in raw.get("highlights") or ()),
        speakers=tuple(_speaker(s) for s in raw.get("speakers") or ()),
        entities=tuple(_entity(e) for e in raw.get("entities") or ()),
    )


class ApiClient:
    """Typed access to the seedsearch API.

    Args:
        base_url: Where the API listens, e.g. ``http://127.0.0.1:8000``.
        api_key: Sent as ``X-API-Key`` when given.
        timeout: Seconds to wait for connect/read; kept short so the page never hangs.
        transport: An ``httpx`` transport, for tests.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_API_URL,
        api_key: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {API_KEY_HEADER: api_key} if api_key else {}
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiClient:
        """Build a client from ``SEEDSEARCH_API_URL`` and ``SEEDSEARCH_API_KEY``."""
        env = os.environ if environ is None else environ
        url = env.get(API_URL_ENV, "").strip() or DEFAULT_API_URL
        return cls(base_url=url, api_key=env.get(API_KEY_ENV) or None)

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TransportError as err:
            raise ApiUnreachable(self.base_url, type(err).__name__) from err

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        try:
            return response.json()
        except ValueError as err:
            raise ApiError(response.status_code, f"{path} did not answer with JSON") from err

    def _parse(self, path: str, parse: Callable[[Any], T], body: Any) -> T:
        try:
            return parse(body)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ApiError(
                200, f"unexpected answer from {path}: {err!r}; is {self.base_url} a seedsearch API?"
            ) from err

    def health(self) -> Health:
        """``GET /health``; a 503 (no index loaded) is a normal answer, not an error."""
        response = self._request("GET", "/health")
        if response.status_code == 503:
            building = False
            try:
                body = response.json()
                building = bool(body.get("building", False)) if isinstance(body, dict) else False
            except ValueError:
                pass
            return Health(ok=False, building=building, detail=_detail(response))
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        try:
            body = response.json()
        except ValueError as err:
            raise ApiError(response.status_code, "/health did not answer with JSON") from err
        return self._parse(
            "/health",
            lambda b: Health(
                ok=True,
                documents=int(b.get("documents") or 0),
                passages=int(b.get("passages") or 0),
                building=bool(b.get("building", False)),
            ),
            body,
        )

    def stats(self) -> Stats:
        """``GET /stats``."""
        return self._parse(
            "/stats",
            lambda b: Stats(
                documents=int(b["documents"]),
                passages=int(b["passages"]),
                model=str(b.get("model") or ""),
                dimension=int(b["dimension"]) if b.get("dimension") is not None else None,
                built_at=str(b["built_at"]) if b.get("built_at") else None,
                index_kind=b.get("index_kind"),
                backend=b.get("backend"),
            ),
            self._json("GET", "/stats"),
        )

    def facets(self) -> Facets:
        """``GET /facets``."""
        return self._parse(
            "/facets",
            lambda b: Facets(
                documents=tuple(
                    DocumentFacet(str(d["doc_id"]), str(d.get("title") or d["doc_id"]))
                    for d in b.get("documents") or ()
                ),
                speakers=tuple(str(s) for s in b.get("speakers") or ()),
                entities=tuple(_entity(e) for e in b.get("entities") or ()),
            ),
            self._json("GET", "/facets"),
        )

    def search(self, request: SearchRequest) -> SearchResponse:
        """``POST /search``; a 422 becomes :class:`ApiError` with the API's explanation."""
        return self._parse(
            "/search",
            lambda b: SearchResponse(
                query=str(b.get("query", request.query)),
                mode=str(b.get("mode", request.mode)),
                took_ms=float(b.get("took_ms") or 0.0),
                results=tuple(_hit(r) for r in b.get("results") or ()),
            ),
            self._json("POST", "/search", json=request.to_json()),
        )

    def context(self, passage_id: int, window: int = 1) -> PassageContext:
        """``GET /passages/{id}/context``: the hit and ``window`` passages each side."""
        path = f"/passages/{int(passage_id)}/context"
        return self._parse(
            path,
            lambda b: PassageContext(
                doc_id=str(b["doc_id"]),
                title=str(b.get("title") or b["doc_id"]),
                passages=tuple(
                    ContextPassage(
                        passage_id=int(p["passage_id"]),
                        position=int(p.get("position") or 0),
                        text=str(p["text"]),
                        section=p.get("section"),
                        start=int(p.get("start") or 0),
                        end=int(p.get("end") or 0),
                        is_hit=bool(p.get("is_hit", False)),
                    )
                    for p in b.get("passages") or ()
                ),
            ),
            self._json("GET", path, params={"window": window}),
        )
