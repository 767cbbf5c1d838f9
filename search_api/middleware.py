"""Plain ASGI middleware: body limit, key gate, no-store caching. Each wraps `send`/`receive`, nothing more."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search_api.contract import API_KEY_HEADER, MISSING_KEY

#: The API's own documentation: open without a key to clients on this machine (loopback), keyed otherwise.
DOCS_PATHS = ("/docs", "/redoc", "/openapi.json", "/static-offline-docs/")


class BodyLimit:
    """Refuses request bodies over `limit` bytes with a 413, whether or not Content-Length is sent.

    The body is read here, up to the limit, before the application sees it: an oversized chunked body is a 413
    that says so, never an error from half-way through parsing it.
    """

    def __init__(
        self, app: ASGIApp, limit: int, upload_limit: int | None = None, upload_paths: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit or limit
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope.get("path") in self.upload_paths
        limit = self.upload_limit if upload else self.limit
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(send, upload)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await self._too_large(send, upload)
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

    async def _too_large(self, send: Send, upload: bool = False) -> None:
        detail = (
            f"the upload is larger than {self.upload_limit} bytes: send fewer or smaller files, or raise "
            "SEEDSEARCH_MAX_UPLOAD_BYTES on the server"
            if upload
            else f"the request body is larger than {self.limit} bytes: send a shorter query"
        )
        response = JSONResponse({"detail": detail}, status_code=413)
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
    covers what they cannot: unknown paths, and the docs, which only clients on loopback may read without a
    key (a browser cannot send the header; from elsewhere, tunnel to the machine or send the header).
    """

    OPEN_PATHS = frozenset({"/health"})

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.expected = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.OPEN_PATHS or _loopback_docs(scope):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(API_KEY_HEADER.lower().encode(), b"")
        if hmac.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        response = JSONResponse({"detail": MISSING_KEY}, status_code=401)
        await response(scope, _empty_receive, send)


def _loopback_docs(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    if not any(path == p or (p.endswith("/") and path.startswith(p)) for p in DOCS_PATHS):
        return False
    client = scope.get("client")
    if not client:
        return False
    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:  # a Unix socket or a test client's made-up name
        return False
