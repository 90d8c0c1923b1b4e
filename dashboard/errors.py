"""Error responses: one line under `detail` naming what was wrong, never a traceback; and their declaration in
the published schema (error_responses), so that what /openapi.json promises is what the server answers.

Unexpected exceptions are caught in the route itself (ErrorLoggingRoute), logged with their traceback and
answered with a generic 500; a database that cannot be reached is a 503. HTTP errors the framework raises
itself (a body that is not UTF-8 or is nested too deeply: 400; an unknown path: 404; a wrong method: 405) are
answers to the client, not faults of the server: they pass through as they are, with one line saying why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as FrameworkHTTPException
from starlette.responses import Response
from starlette.routing import Match, Mount

from dashboard.responses import json_response
from storage.database import DatabaseUnavailable

log = logging.getLogger("automation.dashboard")
Row = TypeVar("Row")


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer of the API."""

    detail: str
    errors: list[FieldProblem] | None = None  # a 422 for a parameter of the wrong type: each problem


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")
ERROR_MEANINGS = {
    400: "The body could not be read: not UTF-8, or JSON nested too deeply",
    401: "Missing or wrong token: send 'Authorization: Bearer <API_TOKEN>'",
    403: "Writes are disabled: no API_TOKEN is set",
    404: "No such row",
    413: "The body is longer than API_MAX_BODY_BYTES",
    409: "Conflicts with the current state (a name in use, an incident already resolved)",
    422: "A parameter or body field is invalid: `detail` names it, the value and what is allowed",
    503: "The database is unavailable (or, to run a job now, no scheduler is running); try again shortly",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI declaration of these error statuses, each with the shared ErrorBody."""
    return {status: {"model": ErrorBody, "description": ERROR_MEANINGS[status]} for status in statuses}


class ErrorLoggingRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except (FrameworkHTTPException, RequestValidationError):
                raise
            except Exception as error:  # noqa: BLE001 - the client gets a generic answer, the log the details
                return unexpected_error(request.method, request.url.path, error)

        return handle


def found_or_404(row: Row | None, what: str, key: object) -> Row:
    """The row, or a 404 saying which one is unknown."""
    if row is None:
        raise HTTPException(404, f"no {what} with id {key}")
    return row


def unexpected_error(method: str, path: str, error: Exception) -> Response:
    """503 for a database that cannot be reached, else a generic 500 with the traceback in the log."""
    if isinstance(error, OperationalError | DatabaseUnavailable):  # down, locked, unreadable, deleted under us
        log.warning("%s %s: database unavailable (%s)", method, path, type(error).__name__)
        return json_response({"detail": "the database is unavailable; try again shortly"}, status_code=503)
    log.error("%s %s failed", method, path, exc_info=error)
    return json_response({"detail": "internal server error; the server log has the details"}, status_code=500)


def _unreadable_body(error: FrameworkHTTPException) -> str:
    """The framework's 400 for a body it could not parse, saying why."""
    cause = error.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return f"the body is not valid UTF-8 (byte {cause.object[cause.start]:#04x} at offset {cause.start})"
    if isinstance(cause, RecursionError):
        return "the body's JSON is nested too deeply"
    return str(error.detail)


def _allowed_methods(request: Request) -> str:
    """Every method some API route serves at this path. Routes of one path but different methods are separate
    routes, and the framework's 405 names only the first one's; the page's files (a Mount) serve any path."""
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    return ", ".join(
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    )


async def http_error(request: Request, error: Exception) -> Response:
    """An HTTP error raised by a route or by the framework: its status and headers, `detail` as one line."""
    assert isinstance(error, FrameworkHTTPException)
    detail = _unreadable_body(error) if error.status_code == 400 else str(error.detail)
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return json_response({"detail": detail}, status_code=error.status_code, headers=headers)


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
    return unexpected_error(request.method, request.url.path, error)
