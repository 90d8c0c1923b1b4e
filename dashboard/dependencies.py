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

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.engine import Connection

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


# The scheme of the write routes in the published schema; the token itself is checked in _check_bearer.
bearer = HTTPBearer(auto_error=False, scheme_name="API_TOKEN", description="Authorization: Bearer <API_TOKEN>")


def _check_bearer(given: str | None, token: str) -> None:
    if given is None or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise HTTPException(
            401,
            "missing or wrong token: send 'Authorization: Bearer <API_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def write_access(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> None:
    """Every write: refused without a configured token, 401 without the right one."""
    token = settings_of(request).dashboard.token
    if token is None:
        raise HTTPException(403, NO_TOKEN_MESSAGE)
    _check_bearer(credentials.credentials if credentials else None, token)


async def read_access(request: Request) -> None:
    """Reads: open unless API_READ_AUTH=true (which needs API_TOKEN, checked with the settings). Not declared
    as a security scheme: whether reads need the token is a setting, not part of the API."""
    dashboard = settings_of(request).dashboard
    if dashboard.read_auth and dashboard.token is not None:
        scheme, given = get_authorization_scheme_param(request.headers.get("authorization"))
        _check_bearer(given if scheme.lower() == "bearer" else None, dashboard.token)


async def no_nul_parameters(request: Request) -> None:
    """PostgreSQL text cannot hold a NUL character: a path or query parameter with one is a 422 naming it here,
    not a 500 from the driver (bodies are checked by dashboard.payloads.Payload)."""
    for name, value in (*request.path_params.items(), *request.query_params.multi_items()):
        if isinstance(value, str) and "\x00" in value:
            raise HTTPException(422, f"{name}={value!r} is invalid; expected text without NUL (\\x00) characters")
