"""Error responses: a one-line `detail` naming the bad parameter (422), and never a traceback (500, 503).

Unexpected exceptions are caught in the route itself (ErrorLoggingRoute), logged with their traceback and
answered with a generic 500; a database that cannot be reached is a 503.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError
from starlette.responses import Response

from dashboard.responses import json_response

log = logging.getLogger("automation.dashboard")
Row = TypeVar("Row")


class ErrorLoggingRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except (HTTPException, RequestValidationError):
                raise
            except Exception as error:  # noqa: BLE001 - the client gets a generic answer, the log the details
                return unexpected_error(request, error)

        return handle


def found_or_404(row: Row | None, what: str, key: object) -> Row:
    """The row, or a 404 saying which one is unknown."""
    if row is None:
        raise HTTPException(404, f"no {what} with id {key}")
    return row


def unexpected_error(request: Request, error: Exception) -> Response:
    if isinstance(error, OperationalError):  # the server is down, the file locked or unreadable
        log.warning("%s %s: database unavailable (%s)", request.method, request.url.path, type(error).__name__)
        return json_response({"detail": "the database is unavailable; try again shortly"}, status_code=503)
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return json_response({"detail": "internal server error; the server log has the details"}, status_code=500)


async def validation_error(request: Request, error: Exception) -> Response:
    """422 with one line naming each bad parameter, plus FastAPI's structured list under `errors`."""
    assert isinstance(error, RequestValidationError)
    problems = []
    structured = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ()) if part not in ("query", "path", "body")]
        name = ".".join(location) or "request"
        shown = f"{name}={repr(item['input'])[:80]}" if "input" in item and item.get("type") != "missing" else name
        problems.append(f"{shown} is invalid: {item.get('msg', 'invalid value')}")
        structured.append({"loc": list(item.get("loc", ())), "msg": item.get("msg"), "type": item.get("type")})
    return json_response({"detail": "; ".join(problems), "errors": structured}, status_code=422)


async def server_error(request: Request, error: Exception) -> Response:
    """Errors outside the routes (middleware, static files)."""
    return unexpected_error(request, error)
