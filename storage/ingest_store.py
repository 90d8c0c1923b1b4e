"""What the hub's ingest reads and writes besides the samples: the pushing hosts (locked for the push), how far
each of their agent outboxes has been stored, the gaps agents report, and each host's last push.

Written for a group of pushes in one transaction (fleet.ingest_group): one statement per group, not per push, for
the locks, the outbox marks and the hosts' rows. The statements are built once, here, with bound parameters."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection, RowMapping

from storage import tables
from storage.many_rows import write_many

_hosts, _outboxes = tables.hosts, tables.host_outboxes

# What a push may change on its host's row; a push that does not say (a seed client's) keeps the stored value.
PUSH_COLUMNS = (
    "fingerprint",
    "last_seen_at",
    "last_collected_at",
    "agent_version",
    "source",
    "interval_seconds",
    "clock_skew_seconds",
)
_LOCK = (
    select(_hosts.c.id, _hosts.c.name, _hosts.c.key_hash, *(_hosts.c[column] for column in PUSH_COLUMNS))
    .where(_hosts.c.key_hash.in_(bindparam("key_hashes", expanding=True)))
    .order_by(_hosts.c.id)
    .with_for_update()
)
_MARKS = select(_outboxes.c.host_id, _outboxes.c.outbox_id, _outboxes.c.last_seq).where(
    _outboxes.c.host_id.in_(bindparam("host_ids", expanding=True)),
    _outboxes.c.outbox_id.in_(bindparam("outbox_ids", expanding=True)),
)


def lock_hosts_by_key(connection: Connection, key_hashes: Collection[str]) -> dict[str, RowMapping]:
    """The hosts whose keys have these hashes, by hash, their rows locked until the transaction ends (FOR UPDATE
    on PostgreSQL and MariaDB, in id order so that two hubs locking overlapping groups cannot deadlock; SQLite's
    IMMEDIATE transaction already serialises writers): pushes of one host, to one hub or several, are stored one
    after another, so the outbox's mark and the host's incidents are read and written by one push at a time."""
    rows = connection.execute(_LOCK, {"key_hashes": sorted(key_hashes)}).mappings()
    return {row["key_hash"]: row for row in rows}


def stored_through(connection: Connection, outboxes: Collection[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """The highest seq already stored of each (host id, outbox id); an outbox never stored is left out. Read
    after lock_hosts_by_key, so a mark another hub moved before the lock was granted is seen."""
    if not outboxes:
        return {}
    wanted = set(outboxes)
    rows = connection.execute(
        _MARKS,
        {"host_ids": sorted({host for host, _ in wanted}), "outbox_ids": sorted({outbox for _, outbox in wanted})},
    )
    return {(host, outbox): int(last_seq) for host, outbox, last_seq in rows if (host, outbox) in wanted}


def record_marks_and_pushes(connection: Connection, marks: list[dict[str, Any]], pushes: list[dict[str, Any]]) -> None:
    """Move each outbox's mark (rows of host_id, outbox_id, last_seq, updated_at and `known`: whether
    stored_through found the outbox, so its row is updated, else inserted) and write each host's last push (rows
    of its id and every column of PUSH_COLUMNS: when it was seen, its newest sample, its agent's version,
    interval and clock skew, the machine its key is bound to): a few statements for the whole group."""
    known = [{key: value for key, value in mark.items() if key != "known"} for mark in marks if mark["known"]]
    new = [{key: value for key, value in mark.items() if key != "known"} for mark in marks if not mark["known"]]
    write_many(
        connection,
        [(_outboxes, new)],
        [(_outboxes, ("host_id", "outbox_id"), known), (_hosts, ("id",), pushes)],
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
