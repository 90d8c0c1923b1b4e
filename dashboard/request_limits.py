"""Checks made before a route reads a request's body: a write's token, and the body's size (API_MAX_BODY_BYTES).

FastAPI reads a body before it runs the route's dependencies, so the token check in the routes alone would let
anyone make the server receive any amount of data first. Here a write (any method but GET, HEAD, OPTIONS) without
the right token is refused before a byte of its body is read, and a body longer than the limit is a 413: from its
Content-Length at once, or as soon as a chunked body passes it while streaming in. What the client still sends
after a refusal is read and dropped by the server, never kept.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.dashboard_settings import DashboardSettings
from dashboard.dependencies import write_refusal

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Pushes from the fleet's hosts: each is authenticated by its host's own key (in a header, the body or the URL),
# which only the route can check; the API token is not asked for, and a host key opens no other write.
INGEST_PATHS = frozenset({"/api/v1/ingest", "/api/v1/coredotcloud", "/monitor_info"})


def too_large(max_body_bytes: int) -> HTTPException:
    return HTTPException(413, f"request body longer than API_MAX_BODY_BYTES={max_body_bytes} bytes")


class RequestLimits:
    """Pure ASGI middleware (no buffering of its own): refusals before the body, a counting `receive` after."""

    def __init__(self, app: ASGIApp, settings: DashboardSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is not None:
            # The application's own handler, so these answers look like every other error of the API.
            handler = scope["app"].exception_handlers.get(StarletteHTTPException, http_exception_handler)
            response = await handler(Request(scope), refusal)
            await response(scope, receive, send)
            return
        await self.app(scope, self.counting(receive), send)

    def refusal(self, scope: Scope) -> HTTPException | None:
        headers = Headers(scope=scope)
        if scope["method"] not in READ_METHODS and scope["path"] not in INGEST_PATHS:
            refusal = write_refusal(self.settings, headers.get("authorization", ""))
            if refusal is not None:
                return refusal
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.settings.max_body_bytes:
            return too_large(self.settings.max_body_bytes)
        return None

    def counting(self, receive: Receive) -> Receive:
        """`receive` that raises a 413 once the body read so far passes the limit (a chunked body has no length
        up front); FastAPI answers it like any HTTPException raised while it reads the body."""
        received_bytes = 0

        async def receive_counted() -> Message:
            nonlocal received_bytes
            message = await receive()
            if message["type"] == "http.request":
                received_bytes += len(message.get("body", b""))
                if received_bytes > self.settings.max_body_bytes:
                    raise too_large(self.settings.max_body_bytes)
            return message

        return receive_counted
