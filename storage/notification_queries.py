"""Reading notifications back: pages filtered by level, channel and time, one row with its deliveries, counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from storage import tables
from storage.time_filters import in_time_range


def list_notifications(
    connection: Connection,
    level: str | None,
    channel: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Newest first."""
    table = tables.notifications
    statement = select(table)
    if level is not None:
        statement = statement.where(table.c.level == level)
    if channel is not None:
        statement = statement.where(table.c.channel == channel)
    statement = in_time_range(statement, table.c.sent_at, start, end)
    statement = statement.order_by(table.c.sent_at.desc(), table.c.id.desc()).limit(limit).offset(offset)
    return [dict(row) for row in connection.execute(statement).mappings()]


def notification_with_deliveries(connection: Connection, notification_id: int) -> dict[str, Any] | None:
    """One notification and where it was sent (destinations masked, as stored)."""
    table, deliveries = tables.notifications, tables.notification_deliveries
    row = connection.execute(select(table).where(table.c.id == notification_id)).mappings().first()
    if row is None:
        return None
    columns = [column for column in deliveries.c if column.name not in ("notification_id", "destination_key")]
    sent = connection.execute(
        select(*columns).where(deliveries.c.notification_id == notification_id).order_by(deliveries.c.id)
    ).mappings()
    return {**row, "deliveries": [dict(delivery) for delivery in sent]}


def counts_by_level(connection: Connection, since: datetime | None = None) -> dict[str, int]:
    table = tables.notifications
    statement = select(table.c.level, func.count()).group_by(table.c.level)
    if since is not None:
        statement = statement.where(table.c.sent_at >= since)
    return dict(connection.execute(statement).tuples().all())
