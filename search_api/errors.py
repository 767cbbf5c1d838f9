"""Every error as JSON `{"detail": ...}` that says what is wrong and what to do, never a traceback."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's terse 404, 405 and 400 answers, rewritten to say where to look."""
    assert isinstance(exc, StarletteHTTPException)
    detail, status, headers = exc.detail, exc.status_code, exc.headers
    if status == 404 and detail == "Not Found":
        detail = f"no endpoint at {request.url.path}: see /docs for the API"
    elif status == 405:
        allowed = allowed_methods(request)
        detail = f"{request.method} is not allowed on {request.url.path}, only {allowed}: see /docs for the API"
        headers = {**(exc.headers or {}), "Allow": allowed}
    elif status == 400 and detail == "There was an error parsing the body":  # e.g. a body that is not UTF-8
        status, detail = 422, (
            "the request body cannot be read as JSON: send a UTF-8 JSON object such as "
            '{"query": "What did Poland say?", "k": 5}'
        )
    return JSONResponse(status_code=status, content={"detail": detail}, headers=headers)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """A 422 listing each bad value with its place and reason."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": readable_errors(exc.errors())})


def add_error_handlers(app: FastAPI) -> None:
    """Install the handlers above on `app`."""
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def allowed_methods(request: Request) -> str:
    """Every method some route takes on this path (Starlette's 405 names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.state.routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods.update(route.methods)
    return ", ".join(sorted(methods))


def readable_errors(errors: Any) -> list[dict[str, Any]]:
    """Validation errors with their messages, without echoing huge or binary inputs back."""
    readable = []
    for error in errors:
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        readable.append({"loc": list(error.get("loc", [])), "msg": message, "type": error.get("type", "")})
    return readable
