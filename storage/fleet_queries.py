"""The fleet view's reads: every host (registered in `hosts`, or only seen in system_metrics, such as the hub's own
monitor) with its newest sample's headline figures and its worst active incident.

Three statements whatever the fleet's size: the hosts table, the newest sample of every host (a few index seeks
per host: storage.metrics_queries.latest_samples, or what a storage.newest_samples.NewestSamples kept) and the
active incidents grouped by host and status.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from monitoring.catalogue import BY_NAME, FLEET_FIGURES
from monitoring.incidents import ACTIVE_STATUSES
from storage import tables
from storage.metrics_queries import latest_samples, plain_rows
from storage.newest_samples import NewestSamples

# The newest sample's figures the view shows: CPU, memory and the system disk.
SAMPLE_COLUMNS = (*(str(BY_NAME[name].machine_column) for name in FLEET_FIGURES), "disk_mountpoint")
# What a hosts row tells about the host; never its key hash.
_HOST_COLUMNS = tuple(
    tables.hosts.c[name]
    for name in (
        "name",
        "last_seen_at",
        "agent_version",
        "source",
        "interval_seconds",
        "clock_skew_seconds",
        "maintenance_since",
    )
)
_ACTIVE = tuple(status.value for status in ACTIVE_STATUSES)


def _registered(connection: Connection, name: str | None) -> dict[str, dict[str, Any]]:
    hosts = tables.hosts
    statement = select(*_HOST_COLUMNS, hosts.c.key_hash.is_not(None).label("has_key"))
    if name is not None:
        statement = statement.where(hosts.c.name == name)
    return {row["name"]: row for row in plain_rows(connection.execute(statement))}


def _newest_samples(connection: Connection, name: str | None, kept: NewestSamples | None) -> dict[str, dict[str, Any]]:
    if name is None and kept is not None:
        return kept.current(connection)
    return {row["hostname"]: row for row in latest_samples(connection, SAMPLE_COLUMNS, hostname=name)}


def _active_incidents(connection: Connection, name: str | None) -> dict[str, dict[str, int]]:
    """How many active incidents each host has, by status (pending, warning, critical)."""
    incidents = tables.alert_incidents
    statement = (
        select(incidents.c.host, incidents.c.status, func.count().label("incidents"))
        .where(incidents.c.status.in_(_ACTIVE))
        .group_by(incidents.c.host, incidents.c.status)
    )
    if name is not None:
        statement = statement.where(incidents.c.host == name)
    counts: dict[str, dict[str, int]] = {}
    for host, status, count in connection.execute(statement):
        counts.setdefault(host, {})[status] = count
    return counts


def fleet_hosts(
    connection: Connection, name: str | None = None, kept: NewestSamples | None = None
) -> list[dict[str, Any]]:
    """Every host (or the one named), by name: its hosts row (None where it has none), its newest sample (None
    where it has none) and its active incidents by status. `kept`: every host's newest samples kept between
    calls (made with SAMPLE_COLUMNS)."""
    registered = _registered(connection, name)
    samples = _newest_samples(connection, name, kept)
    incidents = _active_incidents(connection, name)
    return [
        {"name": host, "row": registered.get(host), "sample": samples.get(host), "incidents": incidents.get(host, {})}
        for host in sorted(registered.keys() | samples.keys())
    ]
