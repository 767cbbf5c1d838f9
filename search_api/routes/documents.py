"""POST and DELETE /documents: add and remove documents while serving (on only when the server has a key).

Each change goes through the incremental build (`indexer.changes`): only the new document is embedded, the
build is published atomically and swapped in here before the answer, so the document is searchable at once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer.changes import ChangeReport, UnknownDocumentError, add_files, add_record, remove_documents
from indexer.store import BuildLockedError, IndexMissingError, IndexStoreError
from search_api import contract
from search_api.deps import HolderDep, ServerSettingsDep, errors, require_admin_key
from search_api.errors import readable_errors
from search_api.service import IndexHolder

router = APIRouter(tags=["documents"], dependencies=[Depends(require_admin_key)])

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": contract.Problem, "description": "The index cannot take changes (another model or an older "
          "seedsearch built it): `detail` says how to rebuild it."}
}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"}}
                    },
                    "required": ["files"],
                }
            },
            "application/json": {"schema": contract.DocumentIn.model_json_schema()},
        },
    }
}


@router.post(
    "/documents",
    response_model=contract.ChangeResult,
    responses={**errors(401, 403, 413, 422, 503), **CONFLICT},
    openapi_extra=UPLOAD_BODY,
)
async def add_documents(request: Request, holder: HolderDep, settings: ServerSettingsDep) -> contract.ChangeResult:
    """Add files (multipart, field `files`: .pdf, .html, .docx, .txt, .md, .jsonl) or one JSON document.

    A document with an existing id replaces it. Files that cannot be read are listed in `skipped` with the
    reason; when nothing could be indexed the answer is a 422 that says why.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    wait = settings.change_wait_s
    if kind == "multipart/form-data":
        with tempfile.TemporaryDirectory(prefix="seedsearch-upload-") as folder:
            files = await _save_uploads(request, Path(folder))
            report = await _change(holder, lambda: add_files(holder.index_dir, files, holder.embedder, wait_s=wait))
    elif kind == "application/json":
        document = _document(await request.body())
        reserved = ("_id", "id", "text", "title")  # the loader reads these fields of a record
        record = {key: value for key, value in document.metadata.items() if key not in reserved}
        record.update(id=document.id, text=document.text)
        if document.title:
            record["title"] = document.title
        report = await _change(holder, lambda: add_record(holder.index_dir, record, holder.embedder, wait_s=wait))
    else:
        raise HTTPException(
            422,
            detail="send files as multipart/form-data (field 'files') or one document as application/json "
            '{"id": ..., "title": ..., "text": ..., "metadata": {...}}',
        )
    if not report.indexed:
        reasons = "; ".join(f"{s.source}: {s.reason}" for s in report.skipped) or "no document was found"
        raise HTTPException(422, detail=f"nothing was indexed ({reasons})")
    return _result(report)


@router.delete(
    "/documents/{doc_id:path}",
    response_model=contract.ChangeResult,
    responses={**errors(401, 403, 404, 503), **CONFLICT},
)
async def delete_document(
    holder: HolderDep,
    settings: ServerSettingsDep,
    doc_id: Annotated[str, PathParam(max_length=contract.MAX_DOCUMENT_ID_CHARS, description="The document's id.")],
) -> contract.ChangeResult:
    """Remove a document from the index, and from the sources of later builds."""
    wait = settings.change_wait_s
    try:
        report = await _change(
            holder, lambda: remove_documents(holder.index_dir, [doc_id], holder.embedder, wait_s=wait)
        )
    except UnknownDocumentError:
        raise HTTPException(404, detail=f"no document {doc_id!r} in the index: see GET /facets") from None
    return _result(report)


async def _save_uploads(request: Request, folder: Path) -> list[tuple[str, Path]]:
    """The uploaded files written to `folder`, each with the name it was sent under."""
    try:
        form = await request.form(max_files=100)
    except StarletteHTTPException as err:  # malformed multipart: Starlette says 400
        raise HTTPException(
            422, detail=f"the multipart body cannot be read ({err.detail}): send the files in a field named 'files'"
        ) from None
    uploads = [item for item in form.getlist("files") if isinstance(item, UploadFile)]
    if not uploads:
        raise HTTPException(422, detail="no file in the form: send the files in a multipart field named 'files'")
    saved = []
    for number, upload in enumerate(uploads):
        path = folder / str(number)
        with path.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                out.write(chunk)
        saved.append((upload.filename or f"upload-{number}", path))
    await form.close()
    return saved


def _document(body: bytes) -> contract.DocumentIn:
    try:
        return contract.DocumentIn.model_validate_json(body)
    except ValidationError as err:
        raise HTTPException(422, detail=readable_errors(err.errors())) from None


async def _change(holder: IndexHolder, change: Callable[[], ChangeReport]) -> ChangeReport:
    """Run a change off the event loop, then serve its build at once."""
    try:
        report = await run_in_threadpool(change)
    except BuildLockedError as err:
        raise HTTPException(503, detail=f"{err} Try again in a minute.") from None
    except IndexMissingError as err:
        raise HTTPException(503, detail=str(err)) from None
    except IndexStoreError as err:
        raise HTTPException(409, detail=str(err)) from None
    except ValueError as err:
        raise HTTPException(422, detail=str(err)) from None
    if report.build is not None:
        await run_in_threadpool(holder.reload)
    return report


def _result(report: ChangeReport) -> contract.ChangeResult:
    return contract.ChangeResult(
        indexed=[contract.IndexedDocument(doc_id=d.doc_id, title=d.title, passages=d.passages) for d in report.indexed],
        removed=report.removed,
        skipped=[contract.SkippedFile(source=s.source, reason=s.reason) for s in report.skipped],
        build=report.build,
        took_ms=round(report.seconds * 1000, 1),
    )
