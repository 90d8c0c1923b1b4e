"""storage.host_summaries.HostSummaries on every backend: the same answer as a full count after new samples,
samples older than every stored one, retention and samples committed out of id order; and only new ids are
read once everything is counted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import delete, event, insert
from sqlalchemy.engine import Connection, Engine

from storage import tables
from storage.host_summaries import HostSummaries
from storage.metrics_queries import counted_host_summaries, host_summaries
from storage.schema import init_database

pytest_plugins = ["db_servers"]

START = datetime(2026, 5, 1, tzinfo=timezone.utc)


@pytest.fixture
def engine(database_url: str) -> Engine:
    """A fresh database on each backend, migrated to head."""
    return init_database(database_url)


def add(connection: Connection, hostname: str, minutes: list[int], ids: list[int] | None = None) -> None:
    """Samples of `hostname` taken `minutes` after START (with these ids, if given)."""
    rows: list[dict[str, Any]] = [
        {"timestamp": START + timedelta(minutes=minute), "hostname": hostname, "platform": "linux"}
        for minute in minutes
    ]
    for row, sample_id in zip(rows, ids or [], strict=False):
        row["id"] = sample_id
    connection.execute(insert(tables.system_metrics), rows)


def test_the_kept_counts_match_a_full_count(engine: Engine) -> None:
    summaries = HostSummaries(settle_seconds=0)  # every call settles what it has seen
    with engine.begin() as connection:
        assert summaries.current(connection) == []
        add(connection, "web", list(range(10)))
        add(connection, "db", [5, 6])
        assert summaries.current(connection) == host_summaries(connection)
        add(connection, "web", [10, 11])
        add(connection, "cache", [12])
        assert summaries.current(connection) == host_summaries(connection)
        add(connection, "db", [-30])  # older than every stored sample (an agent catching up)
        assert summaries.current(connection) == host_summaries(connection)
        add(connection, "web", [13])  # the newest id stays through the pruning below
        assert summaries.current(connection) == host_summaries(connection)
        pruned = START + timedelta(minutes=6)  # retention: every sample before a cutoff
        connection.execute(delete(tables.system_metrics).where(tables.system_metrics.c.timestamp < pruned))
        current = summaries.current(connection)
        assert current == host_summaries(connection)
        assert {host["hostname"]: host["samples"] for host in current} == {"web": 7, "db": 1, "cache": 1}
        assert counted_host_summaries(connection, None) == current
        connection.execute(delete(tables.system_metrics))
        assert summaries.current(connection) == []


def test_samples_committed_out_of_id_order_are_counted(engine: Engine) -> None:
    """PostgreSQL and MariaDB hand out ids before commit: id 7 can show up after id 10 has been seen."""
    with engine.begin() as connection:
        add(connection, "web", [0, 1, 2], ids=[1, 2, 3])
        waiting = HostSummaries(settle_seconds=3600)  # nothing settles during the test
        assert waiting.current(connection) == host_summaries(connection)
        add(connection, "web", [3, 9], ids=[4, 10])
        assert waiting.current(connection)[0]["samples"] == 5
        add(connection, "web", [6], ids=[7])  # above the counted ids, below the newest one
        assert waiting.current(connection) == host_summaries(connection)

        settling = HostSummaries(settle_seconds=0)  # every call settles what it has seen
        assert settling.current(connection) == host_summaries(connection)
        add(connection, "db", [5], ids=[6])  # below every id counted: taken before the count, committed after
        settling.current(connection)  # settles: the first full count is taken again
        assert settling.current(connection) == host_summaries(connection)
        add(connection, "db", [11, 12], ids=[11, 12])
        assert settling.current(connection) == host_summaries(connection)


def test_once_counted_only_new_ids_are_read(engine: Engine) -> None:
    statements: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "GROUP BY" in statement:
            statements.append(statement)

    summaries = HostSummaries(settle_seconds=0)
    with engine.begin() as connection:
        add(connection, "web", list(range(20)))
        summaries.current(connection)
        summaries.current(connection)  # settles the first full count
        for minute in range(20, 25):
            add(connection, "web", [minute])
            event.listen(engine, "before_cursor_execute", record)
            current = summaries.current(connection)
            event.remove(engine, "before_cursor_execute", record)
            assert current == host_summaries(connection)
    assert statements and all("system_metrics.id >" in statement for statement in statements), statements
