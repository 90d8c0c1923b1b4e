"""Health checks, open even with API_READ_AUTH=true (load balancers and uptime checks carry no token)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from dashboard import documents
from dashboard.dependencies import settings_of
from dashboard.health import health_document
from dashboard.responses import json_response
from dashboard.routers import area_router
from scheduler.cron_command import zone_or_default

router = area_router("health", guarded=False)


UNHEALTHY: dict[int | str, dict[str, Any]] = {
    503: {"model": documents.Health, "description": "Unhealthy: the same document, saying why under `reasons`"}
}


@router.get(
    "/monitoring/health",
    summary="Database reachable, scheduler heartbeat, last monitoring run; 503 if not",
    response_model=documents.Health,
    responses=UNHEALTHY,
)
@router.get(
    "/api/v1/health",
    summary="The same health document as /monitoring/health",
    response_model=documents.Health,
    responses=UNHEALTHY,
)
def health(request: Request) -> Response:
    healthy, document = health_document(zone_or_default(settings_of(request).scheduler_timezone))
    return json_response(document, status_code=200 if healthy else 503)
