"""The fleet's hosts and the hashes of their ingest keys (`main.py hosts`; the hub's ingest is to find a host by
the hash of the key it is sent). No key is ever stored, only its sha256."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from storage import tables
from storage.database import inserted_id, write_transaction
from storage.retention import BATCH_ROWS, delete_in_batches, drop_deliveries, drop_sample_details, unlinker
from storage.types import utc_now

_LISTED = (
    tables.hosts.c.id,
    tables.hosts.c.name,
    (tables.hosts.c.key_hash.is_not(None)).label("has_key"),
    tables.hosts.c.key_created_at,
    tables.hosts.c.fingerprint,
    tables.hosts.c.created_at,
)


def list_hosts(connection: Connection) -> list[dict[str, Any]]:
    return [dict(row) for row in connection.execute(select(*_LISTED).order_by(tables.hosts.c.name)).mappings()]


def insert_host(connection: Connection, name: str, key_hash: str) -> int:
    now = utc_now()
    return inserted_id(
        connection.execute(
            insert(tables.hosts).values(name=name, key_hash=key_hash, key_created_at=now, created_at=now)
        )
    )


def replace_key(connection: Connection, name: str, key_hash: str | None) -> bool:
    """A new key hash (None: revoked) for the host; its machine fingerprint is bound again on the new key's first
    use. False when there is no such host."""
    result = connection.execute(
        update(tables.hosts)
        .where(tables.hosts.c.name == name)
        .values(key_hash=key_hash, key_created_at=utc_now() if key_hash else None, fingerprint=None)
    )
    return result.rowcount == 1


def set_maintenance(connection: Connection, name: str, on: bool) -> bool:
    """Maintenance on (since now; kept when already on) or off. False when there is no such host."""
    hosts = tables.hosts
    since = func.coalesce(hosts.c.maintenance_since, utc_now()) if on else None
    return connection.execute(update(hosts).where(hosts.c.name == name).values(maintenance_since=since)).rowcount == 1


class HostData(NamedTuple):
    """A host's rows in the history: deleted by a purge, or kept."""

    samples: int
    notifications: int
    incidents: int


def host_data(connection: Connection, name: str) -> HostData:
    metrics, notifications, incidents = tables.system_metrics, tables.notifications, tables.alert_incidents
    return HostData(
        *(
            int(connection.scalar(select(func.count()).select_from(table).where(column == name)) or 0)
            for table, column in (
                (metrics, metrics.c.hostname),
                (notifications, notifications.c.host),
                (incidents, incidents.c.host),
            )
        )
    )


def forget_host(connection: Connection, name: str) -> HostData | None:
    """Remove the host, so its key stops working, and keep its history: what is kept. None: no such host."""
    kept = host_data(connection, name)
    return kept if _delete_host(connection, name) else None


def purge_host(engine: Engine, name: str, batch_rows: int = BATCH_ROWS) -> HostData | None:
    """Remove the host with its history: its notifications (and their deliveries), incidents and samples (and
    their detail rows), `batch_rows` at a time in transactions of their own, as `db prune` deletes; what was
    deleted. None: no such host. The key is taken away first (and the host put in maintenance, out of the
    silent-host check), the host's row goes last: a purge that failed half-way is still a host, and the same
    command finishes it."""
    hosts = tables.hosts
    with write_transaction(engine) as connection:
        taken = update(hosts).where(hosts.c.name == name).values(key_hash=None, maintenance_since=utc_now())
        if connection.execute(taken).rowcount != 1:
            return None
    metrics, notifications, incidents = tables.system_metrics, tables.notifications, tables.alert_incidents
    notification_rows = delete_in_batches(
        engine, notifications, notifications.c.host == name, drop_deliveries, batch_rows
    )
    incident_rows = delete_in_batches(
        engine, incidents, incidents.c.host == name, unlinker(notifications.c.incident_id), batch_rows
    )
    sample_rows = delete_in_batches(engine, metrics, metrics.c.hostname == name, drop_sample_details, batch_rows)
    with write_transaction(engine) as connection:
        baselines = tables.process_cpu_baselines
        connection.execute(delete(baselines).where(baselines.c.hostname == name))
        _delete_host(connection, name)
    return HostData(sample_rows, notification_rows, incident_rows)


def _delete_host(connection: Connection, name: str) -> bool:
    """The host's row and what hangs on it (its outboxes' progress, its agents' gaps); False if there is none."""
    hosts = tables.hosts
    host_id = connection.scalar(select(hosts.c.id).where(hosts.c.name == name))
    if host_id is None:
        return False
    for table in (tables.host_outboxes, tables.host_gaps):
        connection.execute(delete(table).where(table.c.host_id == host_id))
    connection.execute(delete(hosts).where(hosts.c.id == host_id))
    return True
