"""POST /api/v1/ingest, answered in front of the framework: agents push batches of samples here (see
monitoring.wire for the body, fleet.ingest for what happens to them).

Why in front: a hub of thousands of hosts answers a push every millisecond, and the framework's middleware,
routing and dependency stack cost about a millisecond of the hub's one Python core per request, more than the
push itself (decoding it and handing it to the writer: a tenth of that). This plain ASGI layer takes this one
path and hands every other request to the application. The answers, limits and errors are the application's:
a body longer than API_MAX_BODY_BYTES is a 413 before it is read, errors are `{"detail": "one line"}`, a
database that cannot be reached is a 503, and the published schema describes the route (openapi_paths).

Authenticated by the pushing host's own key (`Authorization: Bearer ahk_...`, from `main.py hosts add NAME`),
never by the API token: a host key opens this route and nothing else. A 200 acknowledges every sample and gap of
the batch (stored now or before); 401, 403, 404, 413 and 422 are answers the agent must not retry as they are.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import msgspec
from anyio import to_thread
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from config.settings import Settings
from dashboard.errors import ERROR_MEANINGS, unexpected_error
from dashboard.pushed_body import pushed_json, small_json
from dashboard.request_limits import too_large
from dashboard.responses import json_response
from dashboard.thresholds import EnvThresholds
from fleet.host_keys import KEY_PREFIX
from fleet.ingest import IngestRefused, Pending, Push, agent_push
from fleet.ingest_writer import WRITER
from monitoring.wire import Batch, WireError, decode_batch
from storage.types import utc_now

INGEST_PATH = "/api/v1/ingest"
INGEST_OFF = "this hub takes no pushes: INGEST_ENABLED=false"
# A body this small once decompressed (a push of a few samples, about 4 KiB each) is decoded on the event loop:
# handing it to a worker thread would cost more than the decoding.
DECODE_INLINE_BYTES = 64 * 1024
DESCRIPTION = (
    "A batch of the agent's outbox, oldest first, optionally `Content-Encoding: gzip`. Samples already stored "
    "(the same outbox and sequence number) are counted as duplicates and not stored again."
)


class Stored(msgspec.Struct):
    """What a push did: samples stored now, samples stored before (a replay), gaps recorded, notifications."""

    host: str
    stored: int
    duplicates: int
    gaps_recorded: int
    notifications: int


_, _COMPONENTS = msgspec.json.schema_components([Batch, Stored], ref_template="#/components/schemas/{name}")


class IngestFront:
    """The ASGI application the server runs: POST /api/v1/ingest here, everything else in `app` (a CORS
    preflight of this path too, where ALLOWED_ORIGINS makes the application answer one)."""

    def __init__(self, app: ASGIApp, settings: Settings, levels: EnvThresholds) -> None:
        self.app = app
        self.settings = settings
        self.levels = levels
        self.preflight_to_app = bool(settings.dashboard.allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != INGEST_PATH:
            await self.app(scope, receive, send)
        elif scope["method"] == "POST":
            await self._ingest(scope, receive, send)
        elif scope["method"] == "OPTIONS" and self.preflight_to_app:
            await self.app(scope, receive, send)
        else:
            await json_response({"detail": "Method Not Allowed"}, 405, {"Allow": "POST"})(scope, receive, send)

    async def _ingest(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            answer = json_response(await self._stored(scope, receive))
        except HTTPException as refused:
            answer = json_response({"detail": refused.detail}, refused.status_code, refused.headers)
        except ClientDisconnect:
            return
        except Exception as error:  # noqa: BLE001 - the client gets a generic answer, the log the details
            answer = unexpected_error("POST", INGEST_PATH, error)
        await answer(scope, receive, send)

    async def _stored(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        """The push stored and graded (DESCRIPTION): what was done, as Stored; HTTPException when refused. The
        checks come in the application's order: the body's length, ingest on, the key, then the body."""
        headers = Headers(scope=scope)
        max_body_bytes = self.settings.dashboard.max_body_bytes
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > max_body_bytes:
            raise too_large(max_body_bytes)
        if not self.settings.fleet.ingest_enabled:
            raise HTTPException(404, INGEST_OFF)
        key = host_key(headers.get("authorization", ""))
        received_at = utc_now()
        raw, encoding = await _body(receive, max_body_bytes), headers.get("content-encoding")
        small = small_json(raw, encoding, DECODE_INLINE_BYTES)
        if small is not None:
            push = _decoded(self.settings, small, None)
        else:  # a batch of hundreds of samples is real work: not on the event loop
            push = await to_thread.run_sync(_decoded, self.settings, raw, encoding)
        # Graded with the levels of .env as it is when the push is written, like the page shows them: a new @HOST
        # level needs no restart.
        pending = Pending(self.settings, key, push, received_at, self.levels.current)
        try:
            result = await asyncio.wrap_future(WRITER.submit(pending))
        except IngestRefused as refused:
            raise HTTPException(refused.status, refused.detail) from None
        return dataclasses.asdict(result)


async def _body(receive: Receive, max_body_bytes: int) -> bytes:
    """The whole body; a 413 as soon as it passes the limit (a chunked body has no length up front)."""
    chunks: list[bytes] = []
    received_bytes = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        received_bytes += len(chunk)
        if received_bytes > max_body_bytes:
            raise too_large(max_body_bytes)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def host_key(authorization: str) -> str:
    """The host key of an `Authorization: Bearer ahk_...` header; 401 without one."""
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key.startswith(KEY_PREFIX):
        raise HTTPException(
            401,
            "missing host key: send 'Authorization: Bearer <key>' with the key `main.py hosts add NAME` printed",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return key


def _decoded(settings: Settings, raw: bytes, content_encoding: str | None) -> Push:
    """Decompress and decode; 4xx naming the field before anything is written."""
    body = pushed_json(raw, content_encoding, settings.fleet.max_batch_bytes)
    try:
        batch = decode_batch(body)
    except WireError as error:
        raise HTTPException(422, f"body: {error}") from None
    return agent_push(batch)


def _answer(description: str, schema: str = "ErrorBody") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def openapi_paths() -> dict[str, Any]:
    """The route in the published document, as the framework would describe it."""
    errors = {status: ERROR_MEANINGS[status] for status in (400, 413, 503)}
    errors |= {
        401: "Missing, unknown or revoked host key",
        403: "The host key is bound to another machine",
        404: f"Ingest is off on this hub ({INGEST_OFF.split(': ')[1]})",
        422: "A field of the batch is invalid: `detail` names it",
    }
    return {
        INGEST_PATH: {
            "post": {
                "tags": ["fleet"],
                "summary": "Store a batch of samples pushed by a host's agent",
                "description": DESCRIPTION,
                "operationId": "ingest_batch_api_v1_ingest_post",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}},
                },
                "responses": {
                    "200": _answer("Successful Response", "Stored"),
                    **{str(status): _answer(text) for status, text in sorted(errors.items())},
                },
                "security": [{"HOST_KEY": []}],
            }
        }
    }


def schema_components() -> dict[str, object]:
    """The wire format's schemas and the host-key scheme, for dashboard.app to add to the published document."""
    return {
        "schemas": _COMPONENTS,
        "securitySchemes": {
            "HOST_KEY": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <host key>"}
        },
    }
