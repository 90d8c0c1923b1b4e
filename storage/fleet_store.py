"""What the hub's silent-host check reads and writes besides incidents: the fleet_state row that hubs sharing one
database lock to take turns, the hosts it watches, and the samples a host's backfill delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from monitoring.host_silence import Backfill
from monitoring.incidents import ACTIVE_STATUSES
from storage import tables

STATE_ID = 1


class FleetState(NamedTuple):
    checked_at: datetime | None
    grace_until: datetime | None


def lock_fleet_state(connection: Connection) -> FleetState:
    """The fleet_state row, locked until the caller's transaction ends (SELECT ... FOR UPDATE; on SQLite the
    caller's IMMEDIATE transaction is the lock). Made when missing: of two hubs making it at once, one inserts
    and the other, refused, waits for that row's lock."""
    state = tables.fleet_state
    query = select(state.c.checked_at, state.c.grace_until).where(state.c.id == STATE_ID).with_for_update()
    row = connection.execute(query).first()
    if row is None:
        try:
            with connection.begin_nested():
                connection.execute(insert(state).values(id=STATE_ID))
        except IntegrityError:
            pass  # another hub made it first
        row = connection.execute(query).one()
    return FleetState(row.checked_at, row.grace_until)


def save_fleet_state(connection: Connection, fleet_state: FleetState) -> None:
    state = tables.fleet_state
    connection.execute(update(state).where(state.c.id == STATE_ID).values(**fleet_state._asdict()))


def watched_hosts(connection: Connection) -> list[dict[str, Any]]:
    """Hosts that have pushed at least once and are not in maintenance, by name."""
    hosts = tables.hosts
    query = (
        select(
            hosts.c.name,
            hosts.c.last_seen_at,
            hosts.c.last_collected_at,
            hosts.c.clock_skew_seconds,
            hosts.c.interval_seconds,
        )
        .where(hosts.c.last_seen_at.is_not(None), hosts.c.maintenance_since.is_(None))
        .order_by(hosts.c.name)
    )
    return [dict(row) for row in connection.execute(query).mappings()]


def hosts_with_active(connection: Connection, metric: str) -> set[str]:
    """The hosts with an active incident on `metric`."""
    incidents = tables.alert_incidents
    query = select(incidents.c.host).where(incidents.c.metric == metric, incidents.c.status.in_(ACTIVE_STATUSES))
    return set(connection.scalars(query))


def samples_between(connection: Connection, hostname: str, start: datetime, end: datetime) -> Backfill:
    """The host's samples collected strictly between `start` and `end`."""
    metrics = tables.system_metrics
    row = connection.execute(
        select(func.count(), func.min(metrics.c.timestamp), func.max(metrics.c.timestamp)).where(
            metrics.c.hostname == hostname, metrics.c.timestamp > start, metrics.c.timestamp < end
        )
    ).one()
    return Backfill(int(row[0] or 0), row[1], row[2])
