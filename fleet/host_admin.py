"""Maintenance and removal of a fleet host, for `main.py hosts maintenance|remove` and the API alike.

A host in maintenance raises no silent-host incident; one that is active when maintenance begins is resolved
quietly: its notifications row says why and is delivered to nobody (silenced), since nothing came back. Removing
a host takes its key away; its history stays unless purged, and its incidents still active are closed the same
quiet way (nothing would ever resolve them).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy.engine import Connection, Engine

from alerts.notifications import CHANNEL, TITLE_MAX_LENGTH
from monitoring.catalogue import BY_NAME
from monitoring.host_silence import HOST_SILENT
from monitoring.incidents import EventKind, IncidentStatus
from monitoring.levels import Level
from storage import host_store
from storage.database import write_transaction
from storage.host_store import HostData, forget_host, purge_host
from storage.incident_store import load_incidents, save_incident
from storage.metrics_store import insert_notification
from storage.types import utc_now


def set_maintenance(engine: Engine, name: str, on: bool, now: datetime | None = None) -> int | None:
    """Maintenance on or off; how many active silent-host incidents were closed. None: no such host."""
    now = now or utc_now()
    with write_transaction(engine) as connection:
        if not host_store.set_maintenance(connection, name, on):
            return None
        if not on:
            return 0
        reason = f"{name} is in maintenance: no silent-host alerts until `main.py hosts maintenance {name} off`"
        return close_quietly(connection, name, reason, now, only_metric=HOST_SILENT)


def remove_host(engine: Engine, name: str, purge: bool, now: datetime | None = None) -> HostData | None:
    """Remove the host: what was purged or kept. None: no such host."""
    if purge:
        return purge_host(engine, name)
    with write_transaction(engine) as connection:
        kept = forget_host(connection, name)
        if kept is not None:
            close_quietly(connection, name, f"{name} was removed from the fleet", now or utc_now())
        return kept


def close_quietly(connection: Connection, host: str, reason: str, now: datetime, only_metric: str | None = None) -> int:
    """Resolve the host's active incidents (of `only_metric`), each with a notifications row delivered to nobody."""
    active, _ = load_incidents(connection, host)
    closed = 0
    for incident in active.values():
        if only_metric is not None and incident.metric != only_metric:
            continue
        resolved = dataclasses.replace(
            incident, status=IncidentStatus.OK, resolved_at=now, last_seen_at=now, last_notified_at=now
        )
        save_incident(connection, resolved)
        spec = BY_NAME.get(incident.metric)
        subject = (spec.label if spec else incident.metric) + (f" of {incident.resource}" if incident.resource else "")
        insert_notification(
            connection,
            dict(
                title=f"[RESOLVED] {subject} on {host}: closed quietly"[:TITLE_MAX_LENGTH],
                message=f"{subject} on {host} is closed without being sent: {reason}",
                level=Level.INFO,
                channel=CHANNEL,
                sent_at=now,
                success=True,
                host=host,
                metric=incident.metric,
                resource=incident.resource or None,
                value=incident.last_value,
                threshold=incident.threshold,
                incident_id=incident.id,
                event=EventKind.RESOLVED,
                silenced=True,
            ),
        )
        closed += 1
    return closed
