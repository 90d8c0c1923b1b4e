"""Reading and writing incidents and silences (Core, inside the monitor's transaction)."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from monitoring.incidents import ACTIVE_STATUSES, Incident, IncidentStatus
from monitoring.levels import Level
from storage import tables
from storage.database import inserted_id

_FIELDS = [field.name for field in dataclasses.fields(Incident)]
Key = tuple[str, str]


Stored = tuple[dict[Key, Incident], dict[Key, Incident]]
_LOAD = (
    select(*(tables.alert_incidents.c[name] for name in _FIELDS))
    .where(
        tables.alert_incidents.c.host.in_(bindparam("hosts", expanding=True)),
        or_(
            tables.alert_incidents.c.status.in_(ACTIVE_STATUSES),
            tables.alert_incidents.c.flapping.is_(True),
        ),
    )
    .order_by(tables.alert_incidents.c.id)
)


def load_incidents(connection: Connection, host: str) -> Stored:
    """The host's active incidents and, per key, its latest episode marked flapping."""
    return load_incidents_of(connection, [host])[host]


def load_incidents_of(connection: Connection, hosts: Collection[str]) -> dict[str, Stored]:
    """load_incidents of several hosts in one query (the hub's ingest of a group of pushes)."""
    stored: dict[str, Stored] = {host: ({}, {}) for host in hosts}
    for row in connection.execute(_LOAD, {"hosts": list(stored)}).mappings():
        incident = Incident(
            **{
                **row,
                "status": IncidentStatus(row["status"]),
                "peak_level": Level(row["peak_level"]) if row["peak_level"] else None,
            }
        )
        # MariaDB's collation ignores case: what one host's query finds is that host's, as it always was.
        host = incident.host if incident.host in stored or len(stored) != 1 else next(iter(stored))
        active, flapping = stored.setdefault(host, ({}, {}))
        key = (incident.metric, incident.resource)
        if incident.active:
            active[key] = incident
        if incident.flapping:
            flapping[key] = incident
    return stored


def transitions_since(connection: Connection, host: str, key: Key, since: datetime) -> int:
    """Firings and resolutions of the key's stored episodes since `since`."""
    table = tables.alert_incidents
    where = (table.c.host == host, table.c.metric == key[0], table.c.resource == key[1])
    fired = connection.scalar(select(func.count()).where(*where, table.c.fired_at >= since))
    resolved = connection.scalar(select(func.count()).where(*where, table.c.resolved_at >= since))
    return int(fired or 0) + int(resolved or 0)


# Built once, values as parameters: a host's open incident is written with each of its samples, and building
# and keying a statement for each costs more than running it.
_INSERT = insert(tables.alert_incidents)
_UPDATE = update(tables.alert_incidents).where(tables.alert_incidents.c.id == bindparam("key_id"))


def save_incident(connection: Connection, incident: Incident) -> Incident:
    values = {name: getattr(incident, name) for name in _FIELDS if name != "id"}
    if incident.id is None:
        return dataclasses.replace(incident, id=inserted_id(connection.execute(_INSERT, values)))
    connection.execute(_UPDATE, {**values, "key_id": incident.id})
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
