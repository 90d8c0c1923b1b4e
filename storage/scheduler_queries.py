"""What the dashboard reads about the schedulers: the running instances and their heartbeats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from storage import tables


def newest_heartbeat(connection: Connection) -> tuple[datetime | None, int]:
    """The newest heartbeat of the schedulers that have not stopped, and how many such rows there are."""
    instances = tables.scheduler_instances
    newest, running = connection.execute(
        select(func.max(instances.c.heartbeat_at), func.count()).where(instances.c.stopped_at.is_(None))
    ).one()
    return newest, int(running or 0)
