"""The seeds' agents, unchanged, against the hub: coredotcloud's `POST API_URL` (API_URL set to
`http(s)://HUB:PORT/api/v1/coredotcloud`, its `apikey` a host key) and HiCloud's `POST /monitor_info` (its `url`
set to `http(s)://HUB:PORT/monitor_info?key=<host key>`, optionally `&tz=<its zone>`) with its `GET /health`.

Their samples go through fleet.ingest like an agent's: stored under the key's host, graded with the hub's
thresholds. The host key is the only credential (dashboard.request_limits.INGEST_PATHS lets these writes through
without the API token); it can only be checked once the body is read, so a malformed payload is a 422 before a
wrong key is a 401. HiCloud's agent expects its own envelope, errors included; /health is public, like the seed's.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

import msgspec
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from dashboard.dependencies import settings_of
from dashboard.errors import ErrorBody, ErrorLoggingRoute, error_responses
from dashboard.ingest_front import INGEST_OFF
from dashboard.responses import json_response
from fleet import coredotcloud, hicloud
from fleet.ingest import IngestRefused, Push, ingest
from fleet.seed_payload import SeedPayloadError

router = APIRouter(tags=["seed agents"], route_class=ErrorLoggingRoute)

HICLOUD_INTERVAL_SECONDS = 60.0  # its agent runs from cron every minute


_PAYLOADS = (coredotcloud.CoreDotCloudPayload, hicloud.HiCloudMonitorInfo)
_, _COMPONENTS = msgspec.json.schema_components(_PAYLOADS, ref_template="#/components/schemas/{name}")


def schema_components() -> dict[str, object]:
    """The payloads' schemas (msgspec's), for dashboard.app to add to the published document."""
    return {"schemas": _COMPONENTS}


def _json_body(payload_type: type, description: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{payload_type.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


class CoreDotCloudAnswer(BaseModel):
    result: Literal["ok"]
    host: str = Field(description="the host the key belongs to: the samples' hostname")
    category: Literal["info", "data"]
    stored: int = Field(description="samples stored: 1 for data, 0 for info")


class HiCloudAnswer(BaseModel):
    """HiCloud's own envelope; `success` false, `resultCode` the HTTP status and `resultMessage` why on errors."""

    data: str
    pageInfo: dict[str, Any]
    resultCode: str
    resultMessage: str
    success: bool


class SeedHealth(BaseModel):
    status: Literal["healthy"]
    timestamp: datetime


def _hicloud_answer(status_code: int, message: str) -> Response:
    success = status_code == 200
    return json_response(
        {
            "data": "",
            "pageInfo": {},
            "resultCode": "0" if success else str(status_code),
            "resultMessage": message,
            "success": success,
        },
        status_code=status_code,
    )


_HICLOUD_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": HiCloudAnswer, "description": "No host key in the URL (`?key=`), or an unknown or revoked one"},
    404: {"model": HiCloudAnswer, "description": "Ingest is disabled (INGEST_ENABLED=false)"},
    422: {"model": HiCloudAnswer, "description": "A field the hub cannot take: `resultMessage` names it"},
    413: {"model": ErrorBody, "description": "The body is longer than API_MAX_BODY_BYTES"},
    503: {"model": ErrorBody, "description": "The database is unavailable; try again shortly"},
}


@router.post(
    "/api/v1/coredotcloud",
    summary="A coredotcloud agent's info or data payload (its API_URL); `apikey` is a host key",
    response_model=CoreDotCloudAnswer,
    responses=error_responses(401, 404, 413, 422, 503),
    openapi_extra=_json_body(coredotcloud.CoreDotCloudPayload, "What the coredotcloud agent sends, unchanged"),
)
async def coredotcloud_push(request: Request) -> Response:
    settings = settings_of(request)
    if not settings.fleet.ingest_enabled:
        raise HTTPException(404, INGEST_OFF)
    received_at = datetime.now(timezone.utc)
    try:
        push = coredotcloud.read_push(await request.body(), received_at)
    except SeedPayloadError as error:
        raise HTTPException(422, str(error)) from None
    samples = [] if push.sample is None else [(None, push.sample)]
    pushed = Push(
        source=coredotcloud.SOURCE, samples=samples, interval_seconds=coredotcloud.INTERVAL_SECONDS, sent_at=None
    )
    try:
        result = await run_in_threadpool(ingest, settings, push.key, pushed, received_at)
    except IngestRefused as refused:
        raise HTTPException(refused.status, refused.detail) from None
    category = "info" if push.info is not None else "data"
    return json_response({"result": "ok", "host": result.host, "category": category, "stored": result.stored})


@router.post(
    "/monitor_info",
    summary="A HiCloud agent's report; its URL carries the host key (`?key=`) and optionally its zone (`&tz=`)",
    response_model=HiCloudAnswer,
    responses=_HICLOUD_ERRORS,
    openapi_extra=_json_body(hicloud.HiCloudMonitorInfo, "What the HiCloud agent sends, unchanged"),
)
async def monitor_info(
    request: Request,
    key: str | None = Query(None, description="the host key from `main.py hosts add NAME`"),
    tz: str | None = Query(None, description="the IANA zone of ser_get_datetime (default UTC)"),
) -> Response:
    settings = settings_of(request)
    if not settings.fleet.ingest_enabled:
        return _hicloud_answer(404, INGEST_OFF)
    if not key:
        return _hicloud_answer(401, "no host key: add ?key=<the key from `main.py hosts add NAME`> to the agent's url")
    received_at = datetime.now(timezone.utc)
    try:
        _, sample = hicloud.read_monitor_info(await request.body(), hicloud.agent_zone(tz))
    except SeedPayloadError as error:
        return _hicloud_answer(422, str(error))
    pushed = Push(
        source=hicloud.SOURCE, samples=[(None, sample)], interval_seconds=HICLOUD_INTERVAL_SECONDS, sent_at=None
    )
    try:
        await run_in_threadpool(ingest, settings, key, pushed, received_at)
    except IngestRefused as refused:
        return _hicloud_answer(refused.status, refused.detail)
    return _hicloud_answer(200, "Success")


@router.get(
    "/health", summary="HiCloud's server check: always healthy while the hub answers", response_model=SeedHealth
)
async def seed_health() -> Response:
    return json_response({"status": "healthy", "timestamp": datetime.now(timezone.utc).isoformat()})
