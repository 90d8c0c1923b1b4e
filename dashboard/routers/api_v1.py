"""/api/v1/*: the time-series API of the FastAPI monitoring seed (start, end, limit default 100 and at most
1000; processes limit default 10 and at most 100, sort_by cpu or memory), and the containers of each sample."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from dashboard import documents
from dashboard.dependencies import Reader, settings_of
from dashboard.params import DEFAULT_PAGE, EndTime, Limit, StartTime, time_range
from dashboard.responses import json_response
from dashboard.routers import area_router
from dashboard.routers.monitoring import live_sample
from monitoring.catalogue import SERIES, series_columns
from storage.metrics_queries import container_series, gpu_series, list_samples

router = area_router("api v1", "/api/v1")
Host = Annotated[str | None, Query(max_length=255, description="default: this server's MONITOR_HOSTNAME")]

# Each series' system_metrics columns: the catalogue's metrics of that series (the disk series also names the
# system disk they are of).
SERIES_COLUMNS = {
    series: (("disk_mountpoint",) if series == "disk" else ()) + series_columns(series) for series in SERIES
}
# The series read from a detail table, and what their summaries add.
_SERIES_NOTES = {
    "gpu": " (a row per GPU and sample)",
    "containers": " (an item per sample that lists containers: each container's identity, state, health, "
    "restarts and figures)",
}


@router.get("/metrics/current", summary="A live sample of this machine (as /monitoring/metrics/current)")
async def current(request: Request) -> Response:
    return Response((await live_sample(request)).body, media_type="application/json")


@router.get(
    "/metrics/processes",
    summary="Top processes of a live sample, by CPU or memory",
    response_model=documents.Processes,
)
async def processes(
    request: Request, limit: Annotated[int, Query(ge=1, le=100)] = 10, sort_by: Literal["cpu", "memory"] = "cpu"
) -> Response:
    live = (await live_sample(request)).document
    rows = [row for row in live.get("processes", []) if row["ranking"] == sort_by and row["rank"] <= limit]
    return json_response(
        {
            "timestamp": live["timestamp"],
            "hostname": live["hostname"],
            "sort_by": sort_by,
            "count": len(rows),
            "processes": rows,
        }
    )


def _series(
    request: Request,
    reader: Connection,
    metric: str,
    hostname: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> Response:
    start, end = time_range(start, end, "start", "end")
    host = hostname or settings_of(request).hostname
    if metric == "gpu":
        data = gpu_series(reader, host, start, end, limit)
    elif metric == "containers":
        data = container_series(reader, host, start, end, limit)
    else:
        data = list_samples(reader, host, start, end, limit, 0, SERIES_COLUMNS[metric])
    return json_response(
        {
            "metric": metric,
            "hostname": host,
            "start": start,
            "end": end,
            "limit": limit,
            "count": len(data),
            "data": data,
        }
    )


def _series_route(metric: str) -> None:
    def series(
        request: Request,
        reader: Reader,
        hostname: Host = None,
        start: StartTime = None,
        end: EndTime = None,
        limit: Limit = DEFAULT_PAGE,
    ) -> Response:
        return _series(request, reader, metric, hostname, start, end, limit)

    router.add_api_route(
        f"/metrics/{metric}",
        series,
        methods=["GET"],
        name=f"{metric}_series",
        summary=f"Stored {metric} figures, newest first" + _SERIES_NOTES.get(metric, ""),
        response_model=documents.Series,
    )


for _metric in (*SERIES_COLUMNS, *_SERIES_NOTES):
    _series_route(_metric)
