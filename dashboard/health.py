"""The health document of /monitoring/health and /api/v1/health: is the database reachable, is a scheduler
beating, and did the monitoring job run when it was due. Unhealthy (503) when any of them is not."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from dashboard.schedules import next_run
from scheduler.service import LATE_GRACE_SECONDS, STALE_AFTER_SECONDS
from storage import JobType, db
from storage.job_queries import list_jobs
from storage.metrics_queries import newest_sample_time
from storage.scheduler_queries import newest_heartbeat


def _age_seconds(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else round((now - moment).total_seconds(), 3)


def health_document(default_zone: ZoneInfo) -> tuple[bool, dict[str, Any]]:
    """(healthy, document)."""
    now = datetime.now(timezone.utc)
    try:
        with db.engine.connect() as connection:
            heartbeat, schedulers = newest_heartbeat(connection)
            last_sample = newest_sample_time(connection)
            monitoring_jobs = [
                job for job in list_jobs(connection) if job["enabled"] and job["job_type"] is JobType.MONITORING
            ]
    except SQLAlchemyError as error:
        document = {"status": "unhealthy", "time": now, "database": {"ok": False, "error": type(error).__name__}}
        return False, document
    heartbeat_age = _age_seconds(heartbeat, now)
    scheduler_ok = heartbeat_age is not None and heartbeat_age <= STALE_AFTER_SECONDS
    monitoring = _monitoring_check(monitoring_jobs, last_sample, now, default_zone)
    healthy = scheduler_ok and monitoring["ok"] is not False
    return healthy, {
        "status": "healthy" if healthy else "unhealthy",
        "time": now,
        "database": {"ok": True},
        "scheduler": {
            "ok": scheduler_ok,
            "running_instances": schedulers,
            "heartbeat_at": heartbeat,
            "heartbeat_age_seconds": heartbeat_age,
            "stale_after_seconds": STALE_AFTER_SECONDS,
        },
        "monitoring": monitoring,
    }


def _monitoring_check(
    jobs: list[dict[str, Any]], last_sample: datetime | None, now: datetime, default_zone: ZoneInfo
) -> dict[str, Any]:
    """Late when a monitoring job's run after the last sample was due longer ago than its timeout and the
    scheduler's grace; ok None (not judged) when no monitoring job is enabled."""
    check: dict[str, Any] = {
        "last_sample_at": last_sample,
        "age_seconds": _age_seconds(last_sample, now),
        "next_due_at": None,
        "ok": None,
    }
    if not jobs:
        check["reason"] = "no enabled MONITORING job"
        return check
    since = last_sample or min(job["created_at"] for job in jobs)
    due = [(moment, job) for job in jobs for moment in [next_run(job, default_zone, since)[0]] if moment]
    if not due:
        check["reason"] = "no monitoring job can be scheduled"
        check["ok"] = False
        return check
    moment, job = min(due, key=lambda pair: pair[0])
    check["next_due_at"] = moment
    check["ok"] = now <= moment + timedelta(seconds=LATE_GRACE_SECONDS + job["timeout_seconds"])
    return check
