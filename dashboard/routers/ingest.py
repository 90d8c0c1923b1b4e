"""POST /api/v1/ingest: agents push batches of samples here (see monitoring.wire for the body, fleet.ingest for
what happens to them).

Authenticated by the pushing host's own key (`Authorization: Bearer ahk_...`, from `main.py hosts add NAME`),
never by the API token: a host key opens this route and nothing else. A 200 acknowledges every sample and gap of
the batch (stored now or before); 401, 403, 404, 413 and 422 are answers the agent must not retry as they are.
"""

from __future__ import annotations

import asyncio
import dataclasses

import msgspec
from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from config.settings import Settings
from dashboard.dependencies import settings_of
from dashboard.errors import error_responses
from dashboard.pushed_body import pushed_json
from dashboard.responses import json_response
from dashboard.routers import area_router
from fleet.host_keys import KEY_PREFIX
from fleet.ingest import IngestRefused, Pending, Push
from fleet.ingest_writer import WRITER
from monitoring.wire import Batch, WireError, decode_batch
from storage.types import utc_now

INGEST_PATH = "/api/v1/ingest"
INGEST_OFF = "this hub takes no pushes: INGEST_ENABLED=false"
# A body this small (a push of a few samples, about 4 KiB each) is decoded on the event loop: handing it to a
# worker thread would cost more than the decoding.
DECODE_INLINE_BYTES = 64 * 1024

# Ingest answers in the hub's own terms: the host key (not the API token) is what a 401 is about.
_ERRORS = error_responses(400, 404, 413)
_ERRORS[401] = {**_ERRORS[400], "description": "Missing, unknown or revoked host key"}
_ERRORS[403] = {**_ERRORS[400], "description": "The host key is bound to another machine"}
_ERRORS[422] = {**_ERRORS[400], "description": "A field of the batch is invalid: `detail` names it"}

router = area_router("fleet", guarded=False)  # API_READ_AUTH is about reads; this route has its own key


class Stored(msgspec.Struct):
    """What a push did: samples stored now, samples stored before (a replay), gaps recorded, notifications."""

    host: str
    stored: int
    duplicates: int
    gaps_recorded: int
    notifications: int


_, _COMPONENTS = msgspec.json.schema_components([Batch, Stored], ref_template="#/components/schemas/{name}")


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


def _push_of(batch: Batch) -> Push:
    return Push(
        source="agent",
        samples=[(incoming.seq, incoming.sample) for incoming in batch.samples],
        fingerprint=batch.fingerprint,
        agent_version=batch.agent_version,
        sent_at=batch.sent_at,
        interval_seconds=batch.interval_seconds,
        outbox_id=batch.outbox_id,
        gaps=batch.gaps,
    )


def _decoded(settings: Settings, raw: bytes, content_encoding: str | None) -> Push:
    """Decompress and decode; 4xx naming the field before anything is written."""
    body = pushed_json(raw, content_encoding, settings.fleet.max_batch_bytes)
    try:
        batch = decode_batch(body)
    except WireError as error:
        raise HTTPException(422, f"body: {error}") from None
    return _push_of(batch)


@router.post(
    INGEST_PATH,
    summary="Store a batch of samples pushed by a host's agent",
    status_code=200,
    responses={200: {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Stored"}}}}, **_ERRORS},
    openapi_extra={
        "security": [{"HOST_KEY": []}],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}},
        },
    },
)
async def ingest_batch(request: Request) -> Response:
    """A batch of the agent's outbox, oldest first, optionally `Content-Encoding: gzip`. Samples already stored
    (the same outbox and sequence number) are counted as duplicates and not stored again."""
    settings = settings_of(request)
    if not settings.fleet.ingest_enabled:
        raise HTTPException(404, INGEST_OFF)
    # Graded with the levels of .env as it is now, like the page shows them: a new @HOST level needs no restart.
    settings = settings._replace(thresholds=request.app.state.env_thresholds.current())
    key = host_key(request.headers.get("authorization", ""))
    received_at = utc_now()
    raw, encoding = await request.body(), request.headers.get("content-encoding")
    if encoding is None and len(raw) <= DECODE_INLINE_BYTES:
        push = _decoded(settings, raw, encoding)
    else:  # a batch of hundreds of samples, or one to decompress, is real work: not on the event loop
        push = await run_in_threadpool(_decoded, settings, raw, encoding)
    try:
        result = await asyncio.wrap_future(WRITER.submit(Pending(settings, key, push, received_at)))
    except IngestRefused as refused:
        raise HTTPException(refused.status, refused.detail) from None
    return json_response(dataclasses.asdict(result))


def schema_components() -> dict[str, object]:
    """The wire format's schemas and the host-key scheme, for dashboard.app to add to the published document."""
    return {
        "schemas": _COMPONENTS,
        "securitySchemes": {
            "HOST_KEY": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <host key>"}
        },
    }
