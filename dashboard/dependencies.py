"""FastAPI dependencies shared by the routers: the settings, a database connection, the token checks, and the
check that no parameter holds a NUL character.

Writes always need `Authorization: Bearer <API_TOKEN>`; reads only with API_READ_AUTH=true. Tokens are compared
in constant time and never logged or echoed. The checks are `async` (no I/O): FastAPI runs them on the event
loop instead of handing each to a worker thread.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPBearer
from sqlalchemy.engine import Connection

from config.dashboard_settings import DashboardSettings
from config.settings import Settings
from storage import db

NO_TOKEN_MESSAGE = (
    "writes are disabled: no API_TOKEN is set. Put API_TOKEN=<at least 16 characters> in .env "
    '(e.g. the output of python -c "import secrets; print(secrets.token_urlsafe(32))"), restart, '
    "and send it as 'Authorization: Bearer <token>'"
)


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def connection() -> Iterator[Connection]:
    """A pooled connection for one request's reads."""
    with db.engine.connect() as opened:
        yield opened


Reader = Annotated[Connection, Depends(connection)]


# The scheme of the write routes in the published schema (dashboard.routers.writes); write_access checks it.
bearer = HTTPBearer(auto_error=False, scheme_name="API_TOKEN", description="Authorization: Bearer <API_TOKEN>")


def bearer_matches(authorization: str, token: str) -> bool:
    """Whether an Authorization header value is `Bearer <token>` (also the exporter's check)."""
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def bearer_refusal(token: str, authorization: str) -> HTTPException | None:
    """The 401 for an Authorization header that is not 'Bearer <token>', or None."""
    if not bearer_matches(authorization, token):
        return HTTPException(
            401,
            "missing or wrong token: send 'Authorization: Bearer <API_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return None


def write_refusal(dashboard: DashboardSettings, authorization: str) -> HTTPException | None:
    """Why a write is refused (403 without a configured token, 401 without the right one), or None. The one rule
    for writes: dashboard.request_limits applies it before a body is read, write_access in the routes."""
    if dashboard.token is None:
        return HTTPException(403, NO_TOKEN_MESSAGE)
    return bearer_refusal(dashboard.token, authorization)


async def write_access(request: Request) -> None:
    """Every write: refused without a configured token, 401 without the right one."""
    refusal = write_refusal(settings_of(request).dashboard, request.headers.get("authorization", ""))
    if refusal is not None:
        raise refusal


async def read_access(request: Request) -> None:
    """Reads: open unless API_READ_AUTH=true (which needs API_TOKEN, checked with the settings). Not declared
    as a security scheme: whether reads need the token is a setting, not part of the API."""
    dashboard = settings_of(request).dashboard
    if dashboard.read_auth and dashboard.token is not None:
        refusal = bearer_refusal(dashboard.token, request.headers.get("authorization", ""))
        if refusal is not None:
            raise refusal


async def no_nul_parameters(request: Request) -> None:
    """PostgreSQL text cannot hold a NUL character: a path or query parameter with one is a 422 naming it here,
    not a 500 from the driver (bodies are checked by dashboard.payloads.Payload)."""
    for name, value in (*request.path_params.items(), *request.query_params.multi_items()):
        if isinstance(value, str) and "\x00" in value:
            raise HTTPException(422, f"{name}={value!r} is invalid; expected text without NUL (\\x00) characters")
