"""The health document of /monitoring/health and /api/v1/health: is the database reachable (and its SQLite file
still the one opened), is a scheduler beating with a job to run, did the monitoring job run when it was due
and did its last run succeed. Unhealthy (503) when any of them is not; `reasons` says why in words, one line
each (empty when healthy)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from dashboard.schedules import next_run
from scheduler.service import LATE_GRACE_SECONDS, STALE_AFTER_SECONDS
from storage import JobType, db
from storage.database import DatabaseUnavailable, database_failure
from storage.job_queries import list_jobs
from storage.metrics_queries import newest_sample_time
from storage.scheduler_queries import latest_monitor_failure, newest_heartbeat


def _age_seconds(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else round((now - moment).total_seconds(), 3)


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"


def health_document(default_zone: ZoneInfo) -> tuple[bool, dict[str, Any]]:
    """(healthy, document)."""
    now = datetime.now(timezone.utc)
    try:
        file_problem = db.file_problem()
        if file_problem is not None:
            raise DatabaseUnavailable(file_problem)
        with db.engine.connect() as connection:
            heartbeat, schedulers = newest_heartbeat(connection)
            last_sample = newest_sample_time(connection)
            failure = latest_monitor_failure(connection)
            jobs = list_jobs(connection)
    except (SQLAlchemyError, DatabaseUnavailable) as error:
        reason = f"database: {database_failure(error) or type(error).__name__}"
        document = {
            "status": "unhealthy",
            "time": now,
            "reasons": [reason],
            "database": {"ok": False, "error": type(error).__name__, "reason": reason},
        }
        return False, document
    heartbeat_age = _age_seconds(heartbeat, now)
    scheduler = {
        "ok": heartbeat_age is not None and heartbeat_age <= STALE_AFTER_SECONDS,
        "running_instances": schedulers,
        "heartbeat_at": heartbeat,
        "heartbeat_age_seconds": heartbeat_age,
        "stale_after_seconds": STALE_AFTER_SECONDS,
        "enabled_jobs": sum(1 for job in jobs if job["enabled"]),
    }
    monitoring_jobs = [job for job in jobs if job["enabled"] and job["job_type"] is JobType.MONITORING]
    monitoring = _monitoring_check(monitoring_jobs, last_sample, now, default_zone)
    monitoring["last_failure"] = None
    if failure is not None and (last_sample is None or failure[0] > last_sample):  # no sample saved since
        monitoring["last_failure"] = {"at": failure[0], "reason": failure[1]}
        monitoring["ok"] = False
    reasons = _reasons(scheduler, monitoring)
    return not reasons, {
        "status": "unhealthy" if reasons else "healthy",
        "time": now,
        "reasons": reasons,
        "database": {"ok": True},
        "scheduler": scheduler,
        "monitoring": monitoring,
    }


def _reasons(scheduler: dict[str, Any], monitoring: dict[str, Any]) -> list[str]:
    """Why the platform is unhealthy, one line each."""
    reasons: list[str] = []
    if not scheduler["running_instances"]:
        reasons.append("scheduler: none is running (start one with `python main.py run`)")
    elif not scheduler["ok"]:
        reasons.append(
            f"scheduler: no heartbeat for {scheduler['heartbeat_age_seconds']:.0f} s "
            f"(a scheduler silent for {STALE_AFTER_SECONDS:.0f} s is taken as gone)"
        )
    if not scheduler["enabled_jobs"]:
        reasons.append("scheduler: no job is enabled, so nothing runs (`python main.py jobs enable NAME`)")
    if monitoring["ok"] is False:
        if monitoring["next_due_at"] is None:
            reasons.append(f"monitoring: {monitoring['reason']}")
        else:
            since = monitoring["last_sample_at"]
            reasons.append(
                f"monitoring: late: a run was due at {_utc(monitoring['next_due_at'])} and no "
                + (f"sample has been saved since {_utc(since)}" if since else "sample was ever saved")
            )
    if monitoring["last_failure"] is not None:
        failure = monitoring["last_failure"]
        reasons.append(f"monitoring: the last run failed at {_utc(failure['at'])}: {failure['reason']}")
    return reasons


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
