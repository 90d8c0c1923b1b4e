"""Building the FastAPI application: routers per area, then the static web page at / (mounted last, so every
API route wins over a file of the same name)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from config.paths import PROJECT_ROOT
from config.settings import Settings
from dashboard.cache import TimedCache, VersionedCache
from dashboard.errors import http_error, server_error, validation_error
from dashboard.ingest_front import IngestFront, openapi_paths
from dashboard.ingest_front import schema_components as ingest_components
from dashboard.live_sample import LiveSampler
from dashboard.prometheus import metrics_registry
from dashboard.request_limits import RequestLimits
from dashboard.routers import (
    api_v1,
    docs,
    health,
    host_admin,
    hosts,
    incidents,
    jobs,
    monitoring,
    prometheus,
    seed_ingest,
)
from dashboard.routers.monitoring import LATEST_MAX_AGE_SECONDS, METRICS_CACHE_BYTES
from dashboard.static_page import PageMount
from dashboard.thresholds import EnvThresholds
from fleet.silent_hosts import SilentHostWatch
from storage import db
from storage.fleet_queries import SAMPLE_COLUMNS
from storage.host_summaries import HostSummaries
from storage.newest_samples import NewestSamples

STATIC_DIR = PROJECT_ROOT / "dashboard" / "static"
# Worker threads that serve requests at once (anyio's default is 40). More only contend for the GIL and make the
# database pool (5 kept connections) open and close extra ones: under 32 connections the stored-samples page
# answered about 900 requests/s with p99 over 100 ms at 20 threads and about 1,100 with p99 near 40 ms at 4.
READ_THREADS = 4


def create_app(settings: Settings) -> IngestFront:
    """The application for `settings` (storage.db must be bound to the database), behind the ingest route's
    front (dashboard.ingest_front)."""
    live = LiveSampler(settings)
    silent_hosts = SilentHostWatch(lambda: db.engine, settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = READ_THREADS
        await run_in_threadpool(live.prime)
        silent_hosts.start()
        yield
        await run_in_threadpool(silent_hosts.stop)

    app = FastAPI(
        title="Automation platform",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # dashboard.routers.docs serves both pages with their assets from the package
        redoc_url=None,
        description="System metrics, incidents, notifications and jobs of the automation platform. "
        "Writes need `Authorization: Bearer <API_TOKEN>`.",
    )
    app.state.settings = settings
    app.state.live_sampler = live
    app.state.latest_cache = TimedCache(LATEST_MAX_AGE_SECONDS)
    app.state.metrics_cache = VersionedCache(METRICS_CACHE_BYTES)
    app.state.host_summaries = HostSummaries()
    app.state.newest_samples = NewestSamples(SAMPLE_COLUMNS)
    app.state.env_thresholds = EnvThresholds(settings)
    app.state.prometheus_registry = metrics_registry(live, settings.fleet)

    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, server_error)
    app.add_middleware(RequestLimits, settings=settings.dashboard)  # added first: inside CORS, which adds its headers
    if settings.dashboard.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.dashboard.allowed_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    routers = (health.router, monitoring.router, incidents.router, jobs.router, api_v1.router, hosts.router)
    for router in (*routers, host_admin.router, prometheus.router, seed_ingest.router):
        app.include_router(router)
    _publish_components(app, ingest_components(), openapi_paths())
    _publish_components(app, seed_ingest.schema_components())
    app.include_router(docs.router)
    if STATIC_DIR.is_dir():
        app.router.routes.append(PageMount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static"))
    return IngestFront(app, settings, app.state.env_thresholds)


def _publish_components(app: FastAPI, extra: dict[str, Any], paths: dict[str, Any] | None = None) -> None:
    """Add schemas the routes reference but FastAPI cannot derive (the wire format's, from msgspec), and routes
    served in front of it (`paths`), to the published document, once, when it is first built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            document["paths"].update(paths or {})
            components = document.setdefault("components", {})
            for section, entries in extra.items():
                components.setdefault(section, {}).update(entries)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
