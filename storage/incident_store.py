"""Reading and writing incidents and silences (Core, inside the monitor's transaction)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from monitoring.incidents import ACTIVE_STATUSES, Incident, IncidentStatus
from monitoring.levels import Level
from storage import tables
from storage.database import inserted_id

_FIELDS = [field.name for field in dataclasses.fields(Incident)]
Key = tuple[str, str]


def load_incidents(connection: Connection, host: str) -> tuple[dict[Key, Incident], dict[Key, Incident]]:
    """The host's active incidents and, per key, its latest episode marked flapping."""
    table = tables.alert_incidents
    rows = connection.execute(
        select(*(table.c[name] for name in _FIELDS))
        .where(table.c.host == host, or_(table.c.status.in_(ACTIVE_STATUSES), table.c.flapping.is_(True)))
        .order_by(table.c.id)
    ).mappings()
    active: dict[Key, Incident] = {}
    flapping: dict[Key, Incident] = {}
    for row in rows:
        incident = Incident(
            **{
                **row,
                "status": IncidentStatus(row["status"]),
                "peak_level": Level(row["peak_level"]) if row["peak_level"] else None,
            }
        )
        key = (incident.metric, incident.resource)
        if incident.active:
            active[key] = incident
        if incident.flapping:
            flapping[key] = incident
    return active, flapping


def transitions_since(connection: Connection, host: str, key: Key, since: datetime) -> int:
    """Firings and resolutions of the key's stored episodes since `since`."""
    table = tables.alert_incidents
    where = (table.c.host == host, table.c.metric == key[0], table.c.resource == key[1])
    fired = connection.scalar(select(func.count()).where(*where, table.c.fired_at >= since))
    resolved = connection.scalar(select(func.count()).where(*where, table.c.resolved_at >= since))
    return int(fired or 0) + int(resolved or 0)


def save_incident(connection: Connection, incident: Incident) -> Incident:
    table = tables.alert_incidents
    values = {name: getattr(incident, name) for name in _FIELDS if name != "id"}
    if incident.id is None:
        return dataclasses.replace(incident, id=inserted_id(connection.execute(insert(table).values(**values))))
    connection.execute(update(table).where(table.c.id == incident.id).values(**values))
    return incident


def delete_incident(connection: Connection, incident_id: int) -> None:
    connection.execute(delete(tables.alert_incidents).where(tables.alert_incidents.c.id == incident_id))


def clear_flapping(connection: Connection, host: str, key: Key) -> None:
    table = tables.alert_incidents
    connection.execute(
        update(table)
        .where(table.c.host == host, table.c.metric == key[0], table.c.resource == key[1], table.c.flapping.is_(True))
        .values(flapping=False)
    )


def active_silence_patterns(connection: Connection, now: datetime) -> list[str]:
    table = tables.alert_silences
    return list(connection.scalars(select(table.c.pattern).where(table.c.until > now, table.c.removed_at.is_(None))))
