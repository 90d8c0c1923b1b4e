"""What people do with incidents and silences (the `alerts` commands and the dashboard): list, acknowledge,
silence, end a silence. The monitor's own reads and writes are in storage.incident_store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import false, func, select, update
from sqlalchemy.engine import Connection

from monitoring.incidents import ACTIVE_STATUSES
from storage import tables
from storage.database import inserted_id
from storage.types import MAX_ID


def list_incidents(connection: Connection, active: bool | None, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """Active incidents (status not ok), resolved ones, or (None) both; newest first."""
    incidents = tables.alert_incidents
    statement = select(incidents).order_by(incidents.c.id.desc()).limit(limit).offset(offset)
    if active is not None:
        statement = statement.where(incidents.c.status != "ok" if active else incidents.c.status == "ok")
    return [dict(row) for row in connection.execute(statement).mappings()]


def incident(connection: Connection, incident_id: int) -> dict[str, Any] | None:
    incidents = tables.alert_incidents
    row = connection.execute(select(incidents).where(incidents.c.id == incident_id)).mappings().first()
    return None if row is None else dict(row)


def acknowledge(connection: Connection, incident_id: int, by: str, now: datetime) -> None:
    incidents = tables.alert_incidents
    connection.execute(
        update(incidents).where(incidents.c.id == incident_id).values(acknowledged_at=now, acknowledged_by=by[:255])
    )


def active_silences(connection: Connection, now: datetime) -> list[dict[str, Any]]:
    silences = tables.alert_silences
    return [
        dict(row)
        for row in connection.execute(
            select(silences).where(silences.c.until > now, silences.c.removed_at.is_(None)).order_by(silences.c.id)
        ).mappings()
    ]


def add_silence(connection: Connection, pattern: str, until: datetime, reason: str | None, now: datetime) -> int:
    return inserted_id(
        connection.execute(
            tables.alert_silences.insert().values(pattern=pattern, until=until, created_at=now, reason=reason)
        )
    )


def end_silences(connection: Connection, target: str, now: datetime) -> int:
    """End the active silences with id `target` (all ASCII digits) or pattern `target`; how many ended."""
    silences = tables.alert_silences
    if target.isascii() and target.isdigit():  # str.isdigit alone takes "²", which int() refuses
        # a larger id names no silence (and could not even be bound)
        chosen = silences.c.id == int(target) if int(target) <= MAX_ID else false()
    else:
        chosen = silences.c.pattern == target
    return connection.execute(
        update(silences).where(chosen, silences.c.removed_at.is_(None), silences.c.until > now).values(removed_at=now)
    ).rowcount


def active_counts(connection: Connection) -> dict[str, int]:
    """Active incidents by status (pending, warning, critical), zero included."""
    incidents = tables.alert_incidents
    counts = {status.value: 0 for status in ACTIVE_STATUSES}
    for status, count in connection.execute(
        select(incidents.c.status, func.count())
        .where(incidents.c.status.in_(ACTIVE_STATUSES))
        .group_by(incidents.c.status)
    ):
        counts[status] = count
    return counts
