"""What routes depend on: the engine serving now, the index holder, the key checks, documented errors."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from search_api import contract
from search_api.engine import SearchEngine
from search_api.service import IndexHolder
from search_api.settings import ServerSettings

ERROR_DESCRIPTIONS = {
    401: "The API key is missing or wrong (only when the server has SEEDSEARCH_API_KEY set).",
    403: "Admin endpoints are off: the server has no SEEDSEARCH_API_KEY.",
    404: "Nothing with this id in the index.",
    413: "The request body is too large.",
    422: "A parameter or the body is invalid, or a filter names nothing in the index; `detail` says which and why.",
    503: "No index is loaded yet: build one with `seedsearch build`.",
}

api_key_header = APIKeyHeader(
    name=contract.API_KEY_HEADER,
    auto_error=False,
    description="Needed on every endpoint but /health when the server has SEEDSEARCH_API_KEY set.",
)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error codes, all shaped as `contract.Problem`."""
    return {code: {"model": contract.Problem, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


async def get_holder(request: Request) -> IndexHolder:
    """The holder of the index this server loaded at start-up."""
    holder: IndexHolder = request.app.state.holder
    return holder


async def get_server_settings(request: Request) -> ServerSettings:
    """The server settings the app was created with."""
    settings: ServerSettings = request.app.state.server_settings
    return settings


HolderDep = Annotated[IndexHolder, Depends(get_holder)]
ServerSettingsDep = Annotated[ServerSettings, Depends(get_server_settings)]


async def get_engine(holder: HolderDep) -> SearchEngine:
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


EngineDep = Annotated[SearchEngine, Depends(get_engine)]


async def require_key(
    settings: ServerSettingsDep, given: Annotated[str | None, Security(api_key_header)] = None
) -> None:
    """With SEEDSEARCH_API_KEY set, the X-API-Key header must match it (compared in constant time)."""
    if settings.api_key is None:
        return
    presented = (given or "").encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(presented, settings.api_key.encode()):
        raise HTTPException(401, detail=contract.MISSING_KEY)


async def require_admin_key(
    settings: ServerSettingsDep, given: Annotated[str | None, Security(api_key_header)] = None
) -> None:
    """Admin endpoints need a key set on the server and sent with the request."""
    if settings.api_key is None:
        raise HTTPException(403, detail="admin endpoints are off: set SEEDSEARCH_API_KEY on the server")
    await require_key(settings, given)


KEYED = [Depends(require_key)]
