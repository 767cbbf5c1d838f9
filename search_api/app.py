"""The FastAPI application: JSON search over the index, loaded once at start-up and swapped on rebuild."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from indexer.embedding import Embedder, load_embedder
from indexer.settings import Settings, get_settings
from search_api import schemas
from search_api.engine import SearchEngine, SearchFilters, SearchOptions, UnknownFilterError, hit_to_dict
from search_api.service import IndexHolder

log = logging.getLogger("seedsearch.api")


class BodyLimit:
    """Refuses request bodies over `limit` bytes with a 413, whether or not Content-Length is sent.

    The body is read here, up to the limit, before the application sees it: an oversized chunked body is a 413
    that says so, never an error from half-way through parsing it.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(send)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: wait for the disconnect, as the server would tell it
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"the request body is larger than {self.limit} bytes: send a shorter query"}, status_code=413
        )
        await response({"type": "http"}, _empty_receive, send)


class NoStore:
    """Marks every answer `Cache-Control: no-store` unless it says otherwise: results change with each build.

    A plain ASGI wrapper around `send`, not `@app.middleware`, which would cost a task and a copy per request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_no_store)


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


class ApiKeyGate:
    """With an API key set, answers 401 to every request but /health that lacks it, before any routing.

    The routes check the key too (`require_key`, which also documents it in the OpenAPI schema); this gate
    covers what they cannot: /docs, /openapi.json and unknown paths.
    """

    OPEN_PATHS = frozenset({"/health"})

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.expected = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-api-key", b"")
        if hmac.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        response = JSONResponse({"detail": MISSING_KEY}, status_code=401)
        await response(scope, _empty_receive, send)


MISSING_KEY = "missing or wrong API key: send it in the X-API-Key header"
ERROR_DESCRIPTIONS = {
    401: "The API key is missing or wrong (only when the server has SEEDSEARCH_API_KEY set).",
    403: "Admin endpoints are off: the server has no SEEDSEARCH_API_KEY.",
    404: "Nothing with this id in the index.",
    413: "The request body is too large.",
    422: "A parameter or the body is invalid; `detail` says which and why.",
    503: "No index is loaded yet: build one with `seedsearch build`.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error codes, all shaped as `schemas.Problem`."""
    return {code: {"model": schemas.Problem, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


async def get_holder(request: Request) -> IndexHolder:
    return request.app.state.holder  # type: ignore[no-any-return]


async def get_engine(holder: Annotated[IndexHolder, Depends(get_holder)]) -> SearchEngine:
    """The engine serving now; a request keeps it to the end even if a reload swaps in another."""
    engine = holder.engine
    if engine is None:
        building = " (a build is running now)" if holder.building else ""
        raise HTTPException(
            503,
            detail=f"no index loaded from {holder.index_dir}{building}: build one with "
            f"`seedsearch build --index {holder.index_dir}`",
        )
    return engine


HolderDep = Annotated[IndexHolder, Depends(get_holder)]
EngineDep = Annotated[SearchEngine, Depends(get_engine)]


async def require_key(request: Request) -> None:
    """With SEEDSEARCH_API_KEY set, the X-API-Key header must match it (compared in constant time)."""
    expected: str | None = request.app.state.settings.api_key
    if expected is None:
        return
    given = request.headers.get("x-api-key", "")
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode()):
        raise HTTPException(401, detail=MISSING_KEY)


async def require_admin_key(request: Request) -> None:
    if request.app.state.settings.api_key is None:
        raise HTTPException(403, detail="admin endpoints are off: set SEEDSEARCH_API_KEY on the server")
    await require_key(request)


def create_app(
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    holder: IndexHolder | None = None,
) -> FastAPI:
    """The API over `settings.index`; pass an embedder or a loaded holder to skip loading them (tests, CLI)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal holder
        if holder is None:
            model = embedder or load_embedder(
                settings.model, backend=settings.backend, device=settings.device, cache_dir=settings.cache_dir
            )
            holder = IndexHolder(settings.index, model, engine_options(settings))
            holder.load(required=False)
        app.state.holder = holder
        app.state.settings = settings
        holder.start_watching(settings.reload_interval_s)
        try:
            yield
        finally:
            holder.stop()

    app = FastAPI(
        title="seedsearch",
        version="0.1.0",
        summary="Semantic search over your own documents, with answers attributed to their speakers.",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.api_key is not None:
        app.add_middleware(ApiKeyGate, api_key=settings.api_key)
    if settings.cors_origins:  # outermost, so that preflight requests are answered before the key is asked
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"]
        )
    app.add_middleware(NoStore)  # outermost: every answer, errors from the gates included

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail, status, headers = exc.detail, exc.status_code, exc.headers
        if status == 404 and detail == "Not Found":
            detail = f"no endpoint at {request.url.path}: see /docs for the API"
        elif status == 405:
            allowed = _allowed_methods(request)
            detail = f"{request.method} is not allowed on {request.url.path}, only {allowed}: see /docs for the API"
            headers = {**(exc.headers or {}), "Allow": allowed}
        elif status == 400 and detail == "There was an error parsing the body":  # e.g. a body that is not UTF-8
            status, detail = 422, (
                "the request body cannot be read as JSON: send a UTF-8 JSON object such as "
                '{"query": "What did Poland say?", "k": 5}'
            )
        return JSONResponse(status_code=status, content={"detail": detail}, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _readable_errors(exc.errors())})

    keyed = [Depends(require_key)]

    def run_search(engine: SearchEngine, request: schemas.SearchRequest) -> Response:
        """The answer as JSON, built and checked here once.

        Returning a `Response` skips FastAPI's second validation of the model, which a sync endpoint would run
        in another thread hop; `response_model` still documents the shape.
        """
        filters = SearchFilters(request.doc_id, request.speaker, request.entity)
        try:
            result = engine.search(request.query, k=request.k, mode=request.mode, filters=filters)
        except UnknownFilterError as err:
            raise HTTPException(422, detail=str(err)) from err
        hits = [schemas.SearchHit(**hit_to_dict(hit, engine.resolver)) for hit in result.hits]
        answer = schemas.SearchResponse(query=result.query, mode=result.mode, took_ms=result.took_ms, results=hits)
        return Response(answer.model_dump_json(), media_type="application/json")

    @app.get("/search", response_model=schemas.SearchResponse, dependencies=keyed, responses=errors(401, 422, 503))
    def search_get(
        engine: EngineDep,
        q: Annotated[
            str,
            Query(
                max_length=8000,
                description="The question, 1 to 2,000 characters after trimming, without control characters.",
                json_schema_extra=schemas.QUERY_SCHEMA,
            ),
        ],
        k: Annotated[int, Query(ge=1, le=schemas.MAX_K)] = 5,
        mode: Annotated[schemas.Mode, Query()] = "hybrid",
        doc_id: Annotated[str | None, Query(max_length=500, json_schema_extra=schemas.FILTER_SCHEMA)] = None,
        speaker: Annotated[str | None, Query(max_length=500, json_schema_extra=schemas.FILTER_SCHEMA)] = None,
        entity: Annotated[str | None, Query(max_length=500, json_schema_extra=schemas.FILTER_SCHEMA)] = None,
    ) -> Response:
        try:
            request = schemas.SearchRequest(
                query=q, k=k, mode=mode, doc_id=doc_id, speaker=speaker, entity=entity
            )
        except ValidationError as err:
            raise RequestValidationError(err.errors()) from err
        return run_search(engine, request)

    @app.post(
        "/search", response_model=schemas.SearchResponse, dependencies=keyed, responses=errors(401, 413, 422, 503)
    )
    def search_post(engine: EngineDep, request: schemas.SearchRequest) -> Response:
        return run_search(engine, request)

    @app.get(
        "/health",
        response_model=schemas.Health,
        responses={503: {"model": schemas.Unavailable, "description": "No index loaded (yet)."}},
    )
    def health(holder: HolderDep) -> Any:
        engine = holder.engine
        if engine is None:
            detail = holder.last_error or f"no index loaded from {holder.index_dir}"
            return JSONResponse(status_code=503, content={"detail": detail, "building": holder.building})
        manifest = engine.index.manifest
        return schemas.Health(
            status="ok", documents=manifest.documents, passages=manifest.passages, building=holder.building
        )

    @app.get("/stats", response_model=schemas.Stats, dependencies=keyed, responses=errors(401, 503))
    def stats(engine: EngineDep) -> schemas.Stats:
        manifest = engine.index.manifest
        return schemas.Stats(
            documents=manifest.documents,
            passages=manifest.passages,
            model=manifest.model_id,
            dimension=manifest.dimension,
            built_at=manifest.built_at,
            index_kind=manifest.vector_index.kind,
            backend=engine.embedder.backend,
        )

    @app.get(
        "/documents/{doc_id:path}",
        response_model=schemas.DocumentOut,
        dependencies=keyed,
        responses=errors(401, 404, 422, 503),
    )
    def document(engine: EngineDep, doc_id: str) -> schemas.DocumentOut:
        found = engine.index.document(doc_id)
        if found is None:
            raise HTTPException(404, detail=f"no document {doc_id!r} in the index: see GET /facets for the ids")
        return schemas.DocumentOut(
            doc_id=found.doc_id, title=found.title, text=found.text, metadata=found.metadata, passages=found.passages
        )

    @app.get(
        "/passages/{passage_id}/context",
        response_model=schemas.Context,
        dependencies=keyed,
        responses=errors(401, 404, 422, 503),
    )
    def context(
        engine: EngineDep,
        passage_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="A passage id from a search hit.")],
        window: Annotated[int, Query(ge=0, le=10)] = 1,
    ) -> schemas.Context:
        passages = engine.index.context(passage_id, window)
        if not passages:
            raise HTTPException(404, detail=f"no passage {passage_id} in the index")
        return schemas.Context(
            doc_id=passages[0].doc_id,
            title=passages[0].title,
            passages=[
                schemas.ContextPassage(
                    passage_id=p.id, position=p.position, section=p.section, text=p.text, start=p.start,
                    end=p.end, is_hit=p.id == passage_id,
                )
                for p in passages
            ],
        )

    @app.get("/facets", response_model=schemas.Facets, dependencies=keyed, responses=errors(401, 503))
    def facets(engine: EngineDep) -> schemas.Facets:
        found = engine.index.facets()
        return schemas.Facets(
            documents=[schemas.DocumentRef(**d) for d in found["documents"]],
            speakers=found["speakers"],
            entities=[schemas.EntityRef(id=e, name=_name(engine, e)) for e in found["entities"]],
        )

    @app.post(
        "/admin/reload",
        response_model=schemas.ReloadResult,
        dependencies=[Depends(require_admin_key)],
        responses=errors(401, 403),
    )
    def admin_reload(holder: HolderDep) -> schemas.ReloadResult:
        swapped = holder.reload()
        detail = "switched to the published build" if swapped else (holder.last_error or "already serving it")
        return schemas.ReloadResult(reloaded=swapped, build=holder.build_id, detail=detail)

    return app


def engine_options(settings: Settings) -> SearchOptions:
    return SearchOptions(
        candidates=settings.candidates,
        fusion=settings.fusion,
        dense_scores=settings.dense_scores,
        dense_weight=settings.dense_weight,
        document_weight=settings.document_weight,
        rrf_k=settings.rrf_k,
        statement_weight=settings.statement_weight,
    )


def _name(engine: SearchEngine, entity_id: str) -> str:
    try:
        return engine.resolver.get(entity_id).name
    except KeyError:
        return entity_id


def _allowed_methods(request: Request) -> str:
    """Every method some route takes on this path (Starlette's 405 names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods.update(route.methods)
    return ", ".join(sorted(methods))


def _readable_errors(errors: Any) -> list[dict[str, Any]]:
    """Validation errors with their messages, without echoing huge or binary inputs back."""
    readable = []
    for error in errors:
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        readable.append({"loc": list(error.get("loc", [])), "msg": message, "type": error.get("type", "")})
    return readable
