"""What the dashboard reads about the schedulers: the running instances and their heartbeats, and the latest
failed monitoring run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from storage import tables

# The notifications row a failed monitoring run leaves (scheduler.executions)
MONITOR_FAILURE_CHANNEL = "scheduler"
MONITOR_FAILURE_METRIC = "monitor_run"


def newest_heartbeat(connection: Connection) -> tuple[datetime | None, int]:
    """The newest heartbeat of the schedulers that have not stopped, and how many such rows there are."""
    instances = tables.scheduler_instances
    newest, running = connection.execute(
        select(func.max(instances.c.heartbeat_at), func.count()).where(instances.c.stopped_at.is_(None))
    ).one()
    return newest, int(running or 0)


def latest_monitor_failure(connection: Connection) -> tuple[datetime, str] | None:
    """When the latest failed monitoring run ended and its one-line reason; None if none ever failed."""
    table = tables.notifications
    row = connection.execute(
        select(table.c.sent_at, table.c.message)
        .where(
            table.c.channel == MONITOR_FAILURE_CHANNEL,
            table.c.metric == MONITOR_FAILURE_METRIC,
            table.c.level == "ERROR",
        )
        .order_by(table.c.sent_at.desc(), table.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row.sent_at, row.message)
