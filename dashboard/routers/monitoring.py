"""/monitoring/*: the seed platform's routes: samples (live, stored, downsampled), notifications, stats.

Stored samples come back in the system_metrics columns (the seed's names; GET /monitoring/catalogue lists them) with,
for a single sample, its detail rows under cpu_cores, disks, networks, gpus, gpu_processes, sensors, containers,
processes and collectors. The live sample of /monitoring/metrics/current has the same shape (id null).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from config.alert_settings import parse_duration
from config.fields import ConfigError
from dashboard import documents
from dashboard.cache import TimedCache, VersionedCache
from dashboard.dependencies import Reader, bearer_matches, settings_of
from dashboard.errors import error_responses, found_or_404
from dashboard.live_sample import LiveSample, LiveSampler
from dashboard.params import DEFAULT_PAGE, EndTime, Hostname, Limit, Offset, RowId, StartTime, time_range
from dashboard.responses import encode_json, json_response
from dashboard.routers import area_router
from dashboard.thresholds import EnvThresholds, catalogue_document, threshold_levels
from monitoring.catalogue import CHARTED_COLUMNS
from monitoring.levels import MetricThresholds
from storage import db
from storage.host_summaries import HostSummaries
from storage.incident_actions import active_counts
from storage.job_queries import runs_by_status
from storage.metrics_queries import (
    buckets,
    epoch_seconds,
    hostnames,
    latest_sample_id,
    list_samples,
    sample_with_details,
    samples_version,
)
from storage.notification_queries import counts_by_level, list_notifications, notification_with_deliveries

router = area_router("monitoring", "/monitoring")

Level = Annotated[
    str | None,
    Query(pattern="^(?i:INFO|WARNING|CRITICAL|ERROR)$", description="INFO, WARNING, CRITICAL or ERROR (any case)"),
]
MAX_POINTS = 1000
DEFAULT_RANGE = timedelta(hours=24)  # of a downsampled query without start_time
MAX_STEP_SECONDS = 366 * 86400
LATEST_MAX_AGE_SECONDS = 1.0
METRICS_CACHE_BYTES = 16 * 2**20  # answers of /monitoring/metrics kept (a full page of rows: about 1.4 MiB)


async def live_sample(request: Request) -> LiveSample:
    """The cached live sample, or a new one collected in a worker thread."""
    sampler: LiveSampler = request.app.state.live_sampler
    cached = sampler.fresh()
    return cached if cached is not None else await run_in_threadpool(sampler.current)


@router.get("/metrics/current", summary="A live sample of this machine (rates since the previous live sample)")
async def current_metrics(request: Request) -> Response:
    return Response((await live_sample(request)).body, media_type="application/json")


@router.get("/hosts", summary="The hosts that have stored samples", response_model=documents.Hosts)
def hosts(reader: Reader) -> Response:
    return json_response({"items": hostnames(reader)})


def current_thresholds(request: Request) -> dict[str, MetricThresholds]:
    """The levels of .env as it is now (dashboard.thresholds.EnvThresholds): the monitor grades against those."""
    env_thresholds: EnvThresholds = request.app.state.env_thresholds
    return env_thresholds.current()


@router.get("/thresholds", summary="The WARNING and CRITICAL levels the monitor grades against (.env)")
def thresholds(request: Request) -> Response:
    return json_response({"items": threshold_levels(current_thresholds(request))})


@router.get(
    "/catalogue",
    summary="Every metric: labels, unit, kind, where it is stored, its API series and, "
    "for a graded one, the levels it is graded against",
)
def catalogue(request: Request) -> Response:
    return json_response({"items": catalogue_document(current_thresholds(request))})


@router.get(
    "/token",
    summary="Whether the token sent would be accepted for writes: accepted, refused, none sent, "
    "or not needed (the server has no API_TOKEN, so writes are off); nothing is changed",
    response_model=documents.TokenCheck,
)
def token_check(request: Request) -> Response:
    token = settings_of(request).dashboard.token
    if token is None:
        verdict = "not needed"
    elif "authorization" not in request.headers:
        verdict = "none sent"
    else:
        verdict = "accepted" if bearer_matches(request.headers["authorization"], token) else "refused"
    return json_response({"token": verdict, "writes_enabled": token is not None})


@router.get(
    "/metrics/latest",
    summary="The newest stored sample with its detail rows (at most 1 s old)",
    responses=error_responses(404),
)
async def latest_metrics(request: Request, hostname: Hostname = None) -> Response:
    """Answered from a cache refreshed at most once a second: the hottest read of a page left open."""
    cache: TimedCache[tuple[int, bytes]] = request.app.state.latest_cache
    cached = cache.fresh(hostname)
    status, body = (
        cached if cached is not None else await run_in_threadpool(cache.get, hostname, lambda: _latest_body(hostname))
    )
    return Response(body, status_code=status, media_type="application/json")


def _latest_body(hostname: str | None) -> tuple[int, bytes]:
    """Status and JSON of the newest sample. Its connection is opened here, not through Reader: an answer from
    the cache must not take a pooled connection (or a worker thread) at all."""
    with db.engine.connect() as reader:
        sample_id = latest_sample_id(reader, hostname)
        sample = sample_with_details(reader, sample_id) if sample_id is not None else None
    if sample is None:
        return 404, encode_json(
            {
                "detail": f"no stored sample{' of host ' + repr(hostname) if hostname else ''} "
                f"yet; run `python main.py monitor` or let the scheduler's monitoring job "
                f"run"
            }
        )
    return 200, encode_json(sample)


def _step_seconds(step: str | None, points: int | None, start: datetime, end: datetime) -> int:
    """Bucket width: `step` as given (90, 90s, 5m, 1h, 1d), or the range split into at most `points` buckets."""
    if step is not None:
        try:
            seconds = parse_duration("step", step, maximum_seconds=MAX_STEP_SECONDS)
        except ConfigError as error:
            raise HTTPException(422, str(error)) from None
        if seconds < 1:
            raise HTTPException(422, f"step={step!r} is invalid; expected at least 1 second")
        return math.ceil(seconds)
    assert points is not None
    # Buckets count whole seconds from floor(start); a range whose start has the larger fraction of a second
    # (00:00:00.9 to 00:00:02.1) touches one whole second more than floor(end - start) + 1.
    span_seconds = epoch_seconds(end) - epoch_seconds(start) + 1
    return max(1, math.ceil(span_seconds / points))


@router.get("/metrics", summary="Stored samples, newest first; with points or step, downsampled into buckets")
async def metrics(
    request: Request,
    hostname: Hostname = None,
    start_time: StartTime = None,
    end_time: EndTime = None,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_POINTS,
            description=("rows or buckets per page (1-1000; default 100 rows, or every bucket when downsampling)"),
        ),
    ] = None,
    offset: Offset = 0,
    points: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_POINTS,
            description=("downsample the range into at most this many buckets (1-1000), each with avg and max"),
        ),
    ] = None,
    step: Annotated[
        str | None, Query(max_length=16, description=("downsample into buckets this long: seconds or 90s, 5m, 1h, 1d"))
    ] = None,
) -> Response:
    start, end = time_range(start_time, end_time)
    if points is None and step is None:
        rows = limit or DEFAULT_PAGE
        key: tuple[object, ...] = ("rows", hostname, start, end, rows, offset)
        return await _answer(request, key, lambda reader: _page_body(reader, hostname, start, end, rows, offset))
    if points is not None and step is not None:
        raise HTTPException(422, f"points={points} and step={step!r} were both given; expected one of them")
    implied_end = end is None  # a range that ends now is answered for this moment only, not kept
    end = end or datetime.now(timezone.utc)
    start = start or end - DEFAULT_RANGE
    step_seconds = _step_seconds(step, points, start, end)
    key = ("buckets", hostname, start, end, step_seconds, limit or MAX_POINTS, offset)
    return await _answer(
        request,
        None if implied_end else key,
        lambda reader: _buckets_body(reader, hostname, start, end, step_seconds, limit or MAX_POINTS, offset),
    )


async def _answer(request: Request, key: Hashable | None, body: Callable[[Connection], bytes]) -> Response:
    """The body for `key` (None: not kept) computed once per version of the stored samples, so a burst of
    requests for the same page costs two index seeks each and a newly stored sample shows in the next answer."""
    cache: VersionedCache = request.app.state.metrics_cache

    def kept(reader: Connection) -> bytes:
        return body(reader) if key is None else cache.get(key, samples_version(reader), lambda: body(reader))

    return await _read(kept)


async def _read(body: Callable[[Connection], bytes]) -> Response:
    """A JSON body read in one worker thread with a connection of its own (the Reader dependency would cost two
    more hand-offs between the event loop and the threads: under load, each is a wait)."""

    def read() -> bytes:
        with db.engine.connect() as reader:
            return body(reader)

    return Response(await run_in_threadpool(read), media_type="application/json")


def _page_body(
    reader: Connection, hostname: str | None, start: datetime | None, end: datetime | None, limit: int, offset: int
) -> bytes:
    rows = list_samples(reader, hostname, start, end, limit, offset)
    return encode_json({"items": rows, "limit": limit, "offset": offset})


def _buckets_body(
    reader: Connection, hostname: str | None, start: datetime, end: datetime, step_seconds: int, limit: int, offset: int
) -> bytes:
    return encode_json(
        {
            "items": buckets(reader, hostname, start, end, step_seconds, limit, offset),
            "hostname": hostname,
            "start_time": start,
            "end_time": end,
            "step_seconds": step_seconds,
            "columns": CHARTED_COLUMNS,
            "limit": limit,
            "offset": offset,
        }
    )


@router.get(
    "/notifications",
    summary="Notifications newest first, by level, channel and time",
    response_model=documents.NotificationPage,
)
def notifications(
    reader: Reader,
    level: Level = None,
    channel: Annotated[str | None, Query(max_length=64, description="e.g. system_monitoring")] = None,
    start_time: StartTime = None,
    end_time: EndTime = None,
    limit: Limit = DEFAULT_PAGE,
    offset: Offset = 0,
) -> Response:
    start, end = time_range(start_time, end_time)
    rows = list_notifications(reader, level.upper() if level else None, channel, start, end, limit, offset)
    return json_response({"items": rows, "limit": limit, "offset": offset})


@router.get(
    "/notifications/{notification_id:int}",
    summary="One notification and its deliveries",
    response_model=documents.NotificationWithDeliveries,
    responses=error_responses(404),
)
def notification(reader: Reader, notification_id: RowId) -> Response:
    return json_response(
        found_or_404(notification_with_deliveries(reader, notification_id), "notification", notification_id)
    )


@router.get("/stats", summary="Hosts, notifications in the last 24 h, active incidents and job runs")
async def stats(request: Request) -> Response:
    summaries: HostSummaries = request.app.state.host_summaries

    def body(reader: Connection) -> bytes:
        day_ago = datetime.now(timezone.utc) - timedelta(hours=24)
        runs: dict[str, int] = {}
        for _, status, count in runs_by_status(reader):
            runs[status] = runs.get(status, 0) + count
        return encode_json(
            {
                "hosts": summaries.current(reader),
                "notifications_last_24h": counts_by_level(reader, day_ago),
                "notifications_total": counts_by_level(reader),
                "active_incidents": active_counts(reader),
                "job_runs": runs,
            }
        )

    return await _read(body)
