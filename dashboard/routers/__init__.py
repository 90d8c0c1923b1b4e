"""One router per area of the API; dashboard.app includes them."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from dashboard.dependencies import no_nul_parameters, read_access
from dashboard.errors import ErrorLoggingRoute


def area_router(tag: str, prefix: str = "", guarded: bool = True) -> APIRouter:
    """A router whose routes log unexpected errors (a generic 500), refuse NUL characters in parameters and,
    when `guarded`, need the token for reads under API_READ_AUTH=true."""
    return APIRouter(
        prefix=prefix,
        tags=[tag],
        route_class=ErrorLoggingRoute,
        dependencies=[*([Depends(read_access)] if guarded else []), Depends(no_nul_parameters)],
    )
