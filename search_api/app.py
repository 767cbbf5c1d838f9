"""The app factory: wires settings, the index holder, middleware, error handlers and routes together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from indexer.embedding import Embedder, load_embedder
from indexer.settings import EncoderSettings
from search_api.errors import add_error_handlers
from search_api.fusion import SearchOptions
from search_api.middleware import ApiKeyGate, BodyLimit, NoStore
from search_api.routes import admin, documents, index, search
from search_api.service import IndexHolder
from search_api.settings import SearchSettings, ServerSettings


def create_app(
    server: ServerSettings | None = None,
    *,
    encoder: EncoderSettings | None = None,
    search_settings: SearchSettings | None = None,
    embedder: Embedder | None = None,
    holder: IndexHolder | None = None,
) -> FastAPI:
    """The API over `encoder.index`; pass an embedder or a loaded holder to skip loading them (tests, CLI).

    Swagger UI (/docs) and ReDoc (/redoc) are served from files installed with the package, never a CDN.
    """
    server = server or ServerSettings()
    encoder = encoder or EncoderSettings()
    options = SearchOptions.from_settings(search_settings or SearchSettings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = holder
        if loaded is None:
            model = embedder or load_embedder(
                encoder.model, backend=encoder.backend, device=encoder.device, cache_dir=encoder.cache_dir,
                threads=encoder.threads,
            )
            loaded = IndexHolder(encoder.index, model, options)
            loaded.load(required=False)
        app.state.holder = loaded
        loaded.start_watching(server.reload_interval_s)
        try:
            yield
        finally:
            loaded.stop()

    app = FastAPIOffline(
        title="seedsearch",
        version="0.1.0",
        summary="Semantic search over your own documents, with answers attributed to their speakers.",
        lifespan=lifespan,
    )
    app.state.server_settings = server
    add_middleware(app, server)
    add_error_handlers(app)
    routers = (search.router, index.router, admin.router, documents.router)
    for routes in routers:
        app.include_router(routes)
    # FastAPI keeps included routers as branches of the app's router; the 405 handler looks through these.
    app.state.routes = [*app.router.routes, *(route for routes in routers for route in routes.routes)]
    return app


UPLOAD_PATHS = ("/documents",)  # POST /documents takes files: its own, larger body limit


def add_middleware(app: FastAPI, server: ServerSettings) -> None:
    """Body limit innermost, then the key gate, CORS, and no-store outermost (every answer, gates' included)."""
    app.add_middleware(
        BodyLimit, limit=server.max_body_bytes, upload_limit=server.max_upload_bytes, upload_paths=UPLOAD_PATHS
    )
    if server.api_key is not None:
        app.add_middleware(ApiKeyGate, api_key=server.api_key)
    if server.cors_origins:  # outside the gate, so that preflight requests are answered before the key is asked
        app.add_middleware(
            CORSMiddleware, allow_origins=server.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"]
        )
    app.add_middleware(NoStore)
