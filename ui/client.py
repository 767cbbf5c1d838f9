"""A small typed client for the seedsearch HTTP API, used by the Streamlit page.

The page talks to the API only through :class:`ApiClient`, so tests can replace it. Answers are read into the
API's own contract models (`search_api.contract`, which imports neither the indexer nor any heavy library);
transport failures become :class:`ApiUnreachable` and non-2xx answers become :class:`ApiError`, both carrying
what the page needs to tell the user what to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from search_api.contract import (
    API_KEY_HEADER,
    ChangeResult,
    Context,
    Facets,
    Health,
    SearchRequest,
    SearchResponse,
    Stats,
    Unavailable,
)
from ui.settings import PageSettings

DEFAULT_API_URL: str = PageSettings.model_fields["api_url"].default
Answer = TypeVar("Answer", bound=BaseModel)


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


def _detail(response: httpx.Response) -> str:
    """The ``detail`` of an error answer as one readable line."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI validation errors
        return "; ".join(_field_error(item) for item in detail)
    return str(detail)


def _field_error(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    loc = list(item.get("loc") or ())
    if loc and loc[0] in ("body", "query", "path", "header"):  # where FastAPI looked, not what
        loc = loc[1:]
    where = ".".join(str(p) for p in loc)
    return f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", ""))


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
        """Build a client from ``SEEDSEARCH_API_URL`` and ``SEEDSEARCH_API_KEY`` (or `environ` in their place)."""
        if environ is None:
            settings = PageSettings()
        else:
            names = {"api_url": "SEEDSEARCH_API_URL", "api_key": "SEEDSEARCH_API_KEY"}
            settings = PageSettings.model_validate({key: environ[env] for key, env in names.items() if env in environ})
        return cls(base_url=settings.api_url, api_key=settings.api_key)

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

    def _read(self, model: type[Answer], response: httpx.Response, path: str) -> Answer:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as err:
            raise ApiError(
                response.status_code,
                f"unexpected answer from {path} ({err.error_count()} problems, first: {err.errors()[0]['msg']}); "
                f"is {self.base_url} a seedsearch API?",
            ) from err

    def _get(self, model: type[Answer], method: str, path: str, **kwargs: Any) -> Answer:
        response = self._request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return self._read(model, response, path)

    def health(self) -> Health | Unavailable:
        """``GET /health``; a 503 (no index loaded) is a normal answer, :class:`Unavailable`, not an error."""
        response = self._request("GET", "/health")
        if response.status_code == 503:
            try:
                return Unavailable.model_validate_json(response.content)
            except ValidationError:
                return Unavailable(detail=_detail(response))
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return self._read(Health, response, "/health")

    def stats(self) -> Stats:
        """``GET /stats``."""
        return self._get(Stats, "GET", "/stats")

    def facets(self) -> Facets:
        """``GET /facets``."""
        return self._get(Facets, "GET", "/facets")

    def search(self, request: SearchRequest) -> SearchResponse:
        """``POST /search``; a 422 becomes :class:`ApiError` with the API's explanation."""
        body = request.model_dump(mode="json")
        return self._get(SearchResponse, "POST", "/search", json=body)

    def add_documents(self, files: Sequence[tuple[str, bytes]], api_key: str) -> ChangeResult:
        """``POST /documents`` with these (name, bytes) files, sent with `api_key` (changes need the key)."""
        parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
        headers = {API_KEY_HEADER: api_key}
        return self._get(ChangeResult, "POST", "/documents", files=parts, headers=headers, timeout=300)

    def context(self, passage_id: int, window: int = 1) -> Context:
        """``GET /passages/{id}/context``: the hit and ``window`` passages each side."""
        return self._get(Context, "GET", f"/passages/{int(passage_id)}/context", params={"window": window})
