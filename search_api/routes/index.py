"""What the loaded index holds: health, stats, documents, passages in context, facets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import JSONResponse

from search_api import contract, convertors  # noqa: F401  (convertors: {doc_id:path} matches newlines)
from search_api.deps import KEYED, EngineDep, HolderDep, errors
from search_api.responses import context_of, document_out, entity_name

router = APIRouter(tags=["index"])


@router.head("/health", include_in_schema=False, response_model=contract.Health)
@router.get(
    "/health",
    response_model=contract.Health,
    responses={503: {"model": contract.Unavailable, "description": "No index loaded (yet)."}},
)
def health(holder: HolderDep) -> contract.Health | JSONResponse:
    """Whether an index is loaded; open without a key, for load balancers and the page."""
    engine = holder.engine
    if engine is None:
        detail = holder.last_error or f"no index loaded from {holder.index_dir}"
        answer = contract.Unavailable(detail=detail, building=holder.building)
        return JSONResponse(status_code=503, content=answer.model_dump())
    manifest = engine.index.manifest
    return contract.Health(documents=manifest.documents, passages=manifest.passages, building=holder.building)


@router.get("/stats", response_model=contract.Stats, dependencies=KEYED, responses=errors(401, 503))
def stats(engine: EngineDep) -> contract.Stats:
    """What the loaded index holds and how it was built."""
    manifest = engine.index.manifest
    return contract.Stats(
        **manifest.model_dump(include={"documents", "passages", "dimension", "built_at"}),
        model=manifest.model_id,
        index_kind=manifest.vector_index.kind,
        backend=manifest.backend,
    )


@router.get(
    "/documents/{doc_id:path}",
    response_model=contract.DocumentOut,
    dependencies=KEYED,
    responses=errors(401, 404, 422, 503),
)
def document(engine: EngineDep, doc_id: str) -> contract.DocumentOut:
    """A whole document with its metadata."""
    found = engine.index.document(doc_id)
    if found is None:
        raise HTTPException(404, detail=f"no document {doc_id!r} in the index: see GET /facets for the ids")
    return document_out(found)


@router.get(
    "/passages/{passage_id}/context",
    response_model=contract.Context,
    dependencies=KEYED,
    responses=errors(401, 404, 422, 503),
)
def context(
    engine: EngineDep,
    passage_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="A passage id from a search hit.")],
    window: Annotated[int, Query(ge=0, le=contract.MAX_CONTEXT_WINDOW)] = 1,
) -> contract.Context:
    """A passage with `window` neighbours on each side."""
    passages = engine.index.context(passage_id, window)
    if not passages:
        raise HTTPException(404, detail=f"no passage {passage_id} in the index")
    return context_of(passages, passage_id)


@router.get("/facets", response_model=contract.Facets, dependencies=KEYED, responses=errors(401, 503))
def facets(engine: EngineDep) -> contract.Facets:
    """The values the filters take: documents, speakers, entities (most frequent first)."""
    found = engine.index.facets()
    return contract.Facets(
        documents=[contract.DocumentRef(**d) for d in found["documents"]],
        speakers=found["speakers"],
        entities=[contract.EntityRef(id=e, name=entity_name(engine.resolver, e)) for e in found["entities"]],
    )
