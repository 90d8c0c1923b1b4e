"""The read routes on PostgreSQL and MariaDB: the same answers as on SQLite, where the SQL differs by dialect
(bucketing by Unix time, the loose index scan of hosts, time zones of naive columns)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.api_server import assert_buckets, environ, insert_rows, main_py, minute_samples, serving, utc
from tests.db_servers import SERVERS

HOST = "db-host"
START = datetime(2026, 1, 31, 23, 30, 12, 500000, tzinfo=timezone.utc)
COUNT = 400


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("postgresql", marks=[pytest.mark.postgresql, pytest.mark.slow]),
        pytest.param("mysql", marks=[pytest.mark.mysql, pytest.mark.slow]),
    ],
)
def test_read_routes(tmp_path: Path, backend: str) -> None:
    rows = minute_samples(HOST, START, COUNT, every_seconds=41)
    with SERVERS[backend].fresh_database() as url:
        env = environ(tmp_path, url, MEMORY_THRESHOLD="0.5", MEMORY_CRITICAL_THRESHOLD="1")
        main_py(env, "db", "init")
        main_py(env, "jobs", "run", "system_monitoring")
        insert_rows(url, "system_metrics", rows)
        with serving(tmp_path, url, MEMORY_THRESHOLD="0.5", MEMORY_CRITICAL_THRESHOLD="1") as server:
            latest = server.ok("/monitoring/metrics/latest")
            assert latest["hostname"] != HOST and latest["cpu_cores"] and latest["disks"]
            assert sorted(server.ok("/monitoring/hosts")["items"]) == sorted([HOST, latest["hostname"]])
            page = server.ok(f"/monitoring/metrics?hostname={HOST}&limit=3&offset=1")["items"]
            assert [utc(row["timestamp"]) for row in page] == [
                START + timedelta(seconds=41 * index) for index in (COUNT - 2, COUNT - 3, COUNT - 4)
            ]
            start, end = START + timedelta(minutes=7), START + timedelta(hours=4)
            for step in ("10m", "97"):
                reply = server.ok(
                    f"/monitoring/metrics?hostname={HOST}&step={step}"
                    f"&start_time={start.isoformat().replace('+', '%2B')}"
                    f"&end_time={end.isoformat().replace('+', '%2B')}"
                )
                assert_buckets(reply["items"], rows, start, end, reply["step_seconds"])
            since = server.ok(f"/api/v1/metrics/memory?hostname={HOST}&start=2026-02-01T01:00:00%2B01:00&limit=1000")
            assert min(utc(row["timestamp"]) for row in since["data"]) >= datetime(2026, 2, 1, tzinfo=timezone.utc)
            notifications = [
                row
                for row in server.ok("/monitoring/notifications?level=CRITICAL")["items"]
                if row["metric"] == "memory_percent"
            ]  # others may breach too: a busy CPU
            assert (
                notifications
                and server.ok(f"/monitoring/notifications/{notifications[0]['id']}")["message"]
                == notifications[0]["message"]
            )
            [job] = [job for job in server.ok("/jobs")["items"] if job["name"] == "system_monitoring"]
            assert job["last_run"]["status"] == "success" and job["next_run_at"]
            assert "memory_percent" in {row["metric"] for row in server.ok("/incidents")["items"]}
            assert server.ok("/monitoring/stats")["hosts"][0]["samples"] in (1, COUNT)
            assert "automation_memory_usage_ratio" in server.get("/metrics").text
            for path in (f"/monitoring/metrics?hostname={HOST}%00", "/monitoring/notifications?channel=%00"):
                assert server.get(path).status == 422, path  # a NUL PostgreSQL cannot hold: named, not a 500
