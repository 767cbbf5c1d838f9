"""GET and POST /search: one question, its best passages."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from search_api import contract
from search_api.deps import KEYED, EngineDep, errors
from search_api.engine import SearchEngine, SearchFilters, UnknownFilterError
from search_api.ordering import ordered
from search_api.responses import search_response

router = APIRouter(tags=["search"], dependencies=KEYED)


@router.get("/search", response_model=contract.SearchResponse, responses=errors(401, 422, 503))
def search_get(
    engine: EngineDep, params: Annotated[contract.SearchParams, Query()], request: Request
) -> Response:
    """Search with query parameters (`?q=...&k=5`): the same limits and answers as POST."""
    refuse_bad_utf8(request.scope.get("query_string", b""))
    try:
        search = params.to_request()
    except ValidationError as err:
        raise RequestValidationError(err.errors()) from err
    return run_search(engine, search)


@router.post("/search", response_model=contract.SearchResponse, responses=errors(401, 413, 422, 503))
def search_post(engine: EngineDep, search: contract.SearchRequest) -> Response:
    """Search with a JSON body."""
    return run_search(engine, search)


def run_search(engine: SearchEngine, search: contract.SearchRequest) -> Response:
    """The answer as JSON, built and checked here once.

    Returning a `Response` skips FastAPI's second validation of the model, which a sync endpoint would run
    in another thread hop; `response_model` still documents the shape.
    """
    refuse_unknown_filters(engine, search)
    filters = SearchFilters(search.doc_id, search.speaker, search.entity, search.since, search.until)
    try:
        result = ordered(engine.search(search.query, k=search.k, mode=search.mode, filters=filters), search.sort)
    except UnknownFilterError as err:
        raise HTTPException(422, detail=str(err)) from err
    answer = search_response(result, engine.resolver)
    return Response(answer.model_dump_json(), media_type="application/json")


def refuse_unknown_filters(engine: SearchEngine, search: contract.SearchRequest) -> None:
    """A filter naming nothing in the index is a 422, as an unknown entity is: never a silent empty list."""
    store = engine.index
    if search.doc_id is not None and store.document(search.doc_id) is None:
        raise HTTPException(
            422, detail=f"doc_id filter {search.doc_id!r} is not a document of the index: see GET /facets"
        )
    if search.speaker is not None and not store.knows_speaker(search.speaker):
        raise HTTPException(
            422, detail=f"speaker filter {search.speaker!r} is not quoted anywhere in the index: see GET /facets"
        )


def refuse_bad_utf8(query_string: bytes) -> None:
    """Refuse percent-encoded bytes that are not UTF-8 (a lone surrogate, a stray byte) instead of replacing them.

    Starlette decodes them as U+FFFD, which would search for something the user never typed.
    """
    try:
        parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as err:
        raise HTTPException(
            422,
            detail=f"the query string holds bytes that are not valid UTF-8 ({err.reason} at byte {err.start} of a "
            "value), such as a lone surrogate: send the question as UTF-8",
        ) from err
