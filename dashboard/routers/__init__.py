"""One router per area of the API; dashboard.app includes them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Security

from dashboard.dependencies import bearer, no_nul_parameters, read_access, write_access
from dashboard.errors import ErrorLoggingRoute, error_responses


def area_router(tag: str, prefix: str = "", guarded: bool = True) -> APIRouter:
    """A router whose routes log unexpected errors (a generic 500), refuse NUL characters in parameters and,
    when `guarded`, need the token for reads under API_READ_AUTH=true (401). Its routes declare those errors
    and a database that is down (503); each route adds its own (error_responses, writes)."""
    return APIRouter(
        prefix=prefix,
        tags=[tag],
        route_class=ErrorLoggingRoute,
        dependencies=[*([Depends(read_access)] if guarded else []), Depends(no_nul_parameters)],
        responses=error_responses(*((401,) if guarded else ()), 422, 503),
    )


def writes(*statuses: int, body: bool = False) -> dict[str, Any]:
    """The options of a write route: the token check with its 401 and 403 (and the bearer scheme declared in the
    schema), a body's 400 (unreadable) and 413 (too long) where it reads one, and the route's own error statuses
    (404 where it names a row, 409 where the state can refuse it)."""
    return {
        "dependencies": [Security(bearer), Depends(write_access)],
        "responses": error_responses(401, 403, *((400, 413) if body else ()), *statuses),
    }
