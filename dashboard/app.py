"""Building the FastAPI application: routers per area, then the static web page at / (mounted last, so every
API route wins over a file of the same name)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from config.paths import PROJECT_ROOT
from config.settings import Settings
from dashboard.routers import monitoring

STATIC_DIR = PROJECT_ROOT / "dashboard" / "static"


def create_app(settings: Settings) -> FastAPI:
    """The application for `settings` (the database must already be bound: storage.db)."""
    app = FastAPI(title="Automation platform", version="0.1.0",
                  description="System metrics, incidents, notifications and jobs of the automation platform.")
    app.state.settings = settings
    app.include_router(monitoring.router)
    if STATIC_DIR.is_dir():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static")
    return app
