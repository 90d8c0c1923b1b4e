"""Every host's newest sample kept between calls (storage.newest_samples) answers what a full read
(metrics_queries.latest_samples) does, after new samples, new hosts, backfilled samples and retention, on SQLite,
PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from db_servers import connect
from sqlalchemy import delete

from storage import tables
from storage.fleet_queries import SAMPLE_COLUMNS
from storage.metrics_queries import latest_samples
from storage.newest_samples import NewestSamples
from storage.schema import init_database
from tests.api_server import insert_rows

pytest_plugins = ["db_servers"]
START = datetime(2026, 11, 30, 8, 0, 0, 250000, tzinfo=timezone.utc)


def sample(host: str, seconds: float, cpu: float) -> dict[str, Any]:
    return {
        "timestamp": START + timedelta(seconds=seconds),
        "hostname": host,
        "cpu_percent": cpu,
        "memory_percent": 50.0,
        "disk_percent": 60.0,
        "disk_mountpoint": "/",
    }


def test_kept_samples_match_a_full_read(database_url: str) -> None:
    init_database(database_url)
    kept = NewestSamples(SAMPLE_COLUMNS, full_read_every_seconds=3600)  # only merges after the first read

    def check() -> dict[str, dict[str, Any]]:
        with connect(database_url) as connection:
            answer = kept.current(connection)
            assert answer == {row["hostname"]: row for row in latest_samples(connection, SAMPLE_COLUMNS)}
        return answer

    insert_rows(database_url, "system_metrics", [sample("a", 0, 1.0), sample("a", 30, 2.0), sample("b", 0, 3.0)])
    assert check()["a"]["cpu_percent"] == 2.0
    # New samples, a new host and a backfilled one older than a's newest.
    insert_rows(
        database_url,
        "system_metrics",
        [sample("a", 60, 4.0), sample("c", 5, 5.0), sample("a", 10, 9.0), sample("b", 300.5, 6.0)],
    )
    answer = check()
    assert [answer[host]["cpu_percent"] for host in "abc"] == [4.0, 6.0, 5.0]
    assert [answer[host]["sampled_every_seconds"] for host in "abc"] == [30, 300, None]
    check()  # nothing new: the same answer
    # Retention takes the oldest samples: everything is read again.
    with connect(database_url) as connection:
        metrics = tables.system_metrics
        connection.execute(delete(metrics).where(metrics.c.timestamp < START + timedelta(seconds=10)))
        connection.commit()
    assert check()["b"]["sampled_every_seconds"] is None
