"""/monitoring/*: the seed platform's routes (metrics, notifications, stats, health)."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from storage import db

router = APIRouter(prefix="/monitoring", tags=["monitoring"])


@router.get("/health")
def health() -> JSONResponse:
    """Whether the database answers; 503 when it does not."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        healthy = True
    except Exception:
        healthy = False
    return JSONResponse({"status": "healthy" if healthy else "unhealthy", "database": healthy,
                         "time": datetime.now(timezone.utc).isoformat()}, status_code=200 if healthy else 503)
