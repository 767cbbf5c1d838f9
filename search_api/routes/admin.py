"""Admin endpoints: on only when the server has a key."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from search_api import contract
from search_api.deps import HolderDep, errors, require_admin_key

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin_key)])


@router.post("/reload", response_model=contract.ReloadResult, responses=errors(401, 403))
def admin_reload(holder: HolderDep) -> contract.ReloadResult:
    """Switch to the newest published build now instead of at the next check."""
    swapped = holder.reload()
    detail = "switched to the published build" if swapped else (holder.last_error or "already serving it")
    return contract.ReloadResult(reloaded=swapped, build=holder.build_id, detail=detail)
