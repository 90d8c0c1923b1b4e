"""What the hub's ingest reads and writes besides the samples: the pushing host (locked for the push), how far
each of its agent outboxes has been stored, the gaps agents report, and the host's last push."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from storage import tables


def lock_host_by_key(connection: Connection, key_hash: str) -> RowMapping | None:
    """The host whose key has this hash, its row locked until the transaction ends (FOR UPDATE on PostgreSQL and
    MariaDB; SQLite's IMMEDIATE transaction already serialises writers): pushes of one host, to one hub or
    several, are stored one after another, so the outbox's mark and the host's incidents are read and written
    by one push at a time."""
    hosts = tables.hosts
    return (
        connection.execute(
            select(hosts.c.id, hosts.c.name, hosts.c.fingerprint, hosts.c.last_collected_at)
            .where(hosts.c.key_hash == key_hash)
            .with_for_update()
        )
        .mappings()
        .first()
    )


def bind_fingerprint(connection: Connection, host_id: int, fingerprint: str) -> None:
    connection.execute(update(tables.hosts).where(tables.hosts.c.id == host_id).values(fingerprint=fingerprint))


def stored_through(connection: Connection, host_id: int, outbox_id: str) -> int:
    """The highest seq of this outbox already stored (0: none)."""
    outboxes = tables.host_outboxes
    last_seq = connection.execute(
        select(outboxes.c.last_seq).where(outboxes.c.host_id == host_id, outboxes.c.outbox_id == outbox_id)
    ).scalar()
    return int(last_seq or 0)


def mark_stored_through(
    connection: Connection, host_id: int, outbox_id: str, last_seq: int, before: int, now: datetime
) -> None:
    """Move the outbox's mark from `before` (what stored_through said, under the host's lock) to `last_seq`."""
    outboxes = tables.host_outboxes
    if before:
        connection.execute(
            update(outboxes)
            .where(outboxes.c.host_id == host_id, outboxes.c.outbox_id == outbox_id)
            .values(last_seq=last_seq, updated_at=now)
        )
    else:
        connection.execute(
            insert(outboxes).values(host_id=host_id, outbox_id=outbox_id, last_seq=last_seq, updated_at=now)
        )


def record_gaps(connection: Connection, host_id: int, outbox_id: str, gaps: list[dict[str, Any]]) -> int:
    """Insert the gaps not recorded before (a replayed push repeats them); returns how many were new."""
    if not gaps:
        return 0
    table = tables.host_gaps
    known = set(
        connection.execute(
            select(table.c.first_seq).where(
                table.c.host_id == host_id,
                table.c.outbox_id == outbox_id,
                table.c.first_seq.in_([gap["first_seq"] for gap in gaps]),
            )
        ).scalars()
    )
    new = [{**gap, "host_id": host_id, "outbox_id": outbox_id} for gap in gaps if gap["first_seq"] not in known]
    if new:
        connection.execute(insert(table), new)
    return len(new)


def record_push(connection: Connection, host_id: int, values: dict[str, Any]) -> None:
    """The host's last push: when, its newest sample, its agent's version, interval and clock skew."""
    connection.execute(update(tables.hosts).where(tables.hosts.c.id == host_id).values(**values))
