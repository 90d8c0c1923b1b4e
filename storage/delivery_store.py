"""notification_deliveries for alerts.delivery: queue, expire, take, record and summarize, each in the caller's
transaction. A row read while waiting is changed only if it still is as read (compare-and-set), so two processes
delivering at the same time never both act on one row. Core only: the one-shot monitor run stays cheap."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, or_, select, update
from sqlalchemy.engine import Connection

from storage.enums import DeliveryStatus
from storage.tables import notification_deliveries as deliveries
from storage.tables import notifications

WAITING = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
_IDS_PER_STATEMENT = 500  # notification ids bound in one IN list


def add_deliveries(connection: Connection, rows: list[dict[str, Any]]) -> None:
    connection.execute(deliveries.insert(), rows)


def waiting_count(connection: Connection) -> int:
    """Deliveries pending or retrying."""
    return connection.scalar(select(func.count()).select_from(deliveries).where(deliveries.c.status.in_(WAITING))) or 0


def expirable_deliveries(connection: Connection, destination_keys: list[str], sent_before: datetime) -> list[Row[Any]]:
    """Waiting deliveries of a notification sent before `sent_before`, or to a destination not in
    `destination_keys` (no longer configured)."""
    return list(
        connection.execute(
            select(
                deliveries.c.id,
                deliveries.c.notification_id,
                deliveries.c.destination,
                deliveries.c.destination_key,
                deliveries.c.status,
                deliveries.c.attempts,
                deliveries.c.error_message,
            )
            .join(notifications, notifications.c.id == deliveries.c.notification_id)
            .where(
                deliveries.c.status.in_(WAITING),
                or_(notifications.c.sent_at < sent_before, deliveries.c.destination_key.not_in(destination_keys)),
            )
        )
    )


def expire_delivery(connection: Connection, read: Row[Any], error_message: str) -> bool:
    """Mark the delivery expired unless its status or attempts changed since `read`; whether it was."""
    return (
        connection.execute(
            update(deliveries)
            .where(
                deliveries.c.id == read.id, deliveries.c.status == read.status, deliveries.c.attempts == read.attempts
            )
            .values(status=DeliveryStatus.EXPIRED, next_attempt_at=None, error_message=error_message)
        ).rowcount
        == 1
    )


def due_deliveries(connection: Connection, destination_keys: list[str], now: datetime, limit: int) -> list[Row[Any]]:
    """Waiting deliveries to the given destinations whose next attempt has come, oldest notification first, with
    what to send: the notification's title, message, level and details."""
    n = notifications.c
    return list(
        connection.execute(
            select(
                deliveries.c.id,
                deliveries.c.notification_id,
                deliveries.c.destination_key,
                deliveries.c.status,
                deliveries.c.attempts,
                deliveries.c.next_attempt_at,
                n.title,
                n.message,
                n.level,
                n.host,
                n.metric,
                n.resource,
                n.value,
                n.threshold,
                n.sent_at,
            )
            .join(notifications, n.id == deliveries.c.notification_id)
            .where(
                deliveries.c.status.in_(WAITING),
                deliveries.c.destination_key.in_(destination_keys),
                or_(deliveries.c.next_attempt_at.is_(None), deliveries.c.next_attempt_at <= now),
            )
            .order_by(n.sent_at, deliveries.c.id)
            .limit(limit)
        )
    )


def take_delivery(connection: Connection, read: Row[Any], lease: datetime) -> bool:
    """Move the delivery's next attempt to `lease` (past the taker's deadline) unless it changed since `read`;
    whether it was taken."""
    unchanged = (
        deliveries.c.next_attempt_at.is_(None)
        if read.next_attempt_at is None
        else deliveries.c.next_attempt_at == read.next_attempt_at
    )
    return (
        connection.execute(
            update(deliveries)
            .where(
                deliveries.c.id == read.id,
                deliveries.c.status == read.status,
                deliveries.c.attempts == read.attempts,
                unchanged,
            )
            .values(next_attempt_at=lease)
        ).rowcount
        == 1
    )


def record_attempt(connection: Connection, delivery_id: int, lease: datetime, values: dict[str, Any]) -> bool:
    """Write a taken delivery's outcome unless it is no longer taken with `lease` (expired meanwhile); whether
    it was written."""
    return (
        connection.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id, deliveries.c.next_attempt_at == lease)
            .values(**values)
        ).rowcount
        == 1
    )


def deliveries_of(connection: Connection, notification_ids: Iterable[int]) -> list[Row[Any]]:
    """The deliveries of the given notifications: status, destination, last error and attempt."""
    ids = sorted(notification_ids)
    rows: list[Row[Any]] = []
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        rows += connection.execute(
            select(
                deliveries.c.notification_id,
                deliveries.c.status,
                deliveries.c.destination,
                deliveries.c.error_message,
                deliveries.c.last_attempt_at,
                deliveries.c.id,
            ).where(deliveries.c.notification_id.in_(ids[start : start + _IDS_PER_STATEMENT]))
        ).all()
    return rows


def set_notification_outcome(
    connection: Connection, notification_id: int, success: bool, error_message: str | None
) -> None:
    """notifications.success and error_message: how its deliveries went."""
    connection.execute(
        update(notifications)
        .where(notifications.c.id == notification_id)
        .values(success=success, error_message=error_message)
    )
