"""GET /metrics in the Prometheus text format (dashboard.prometheus has the names)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dashboard.routers import area_router

router = area_router("prometheus")


@router.get(
    "/metrics",
    summary="Prometheus exposition: stored samples per host and the platform's figures",
    response_class=PlainTextResponse,  # declares text/plain in the schema
)
def prometheus_metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.prometheus_registry), media_type=CONTENT_TYPE_LATEST)
