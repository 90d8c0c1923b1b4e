"""A small fleet written into a test database as the hub stores it (storage.tables rows): registered hosts that
are up, silent, in maintenance or never seen, a host with samples only (as the hub's own monitor), their newest
samples and active incidents; and what the fleet view must say about each.

PYTEST_DONT_REWRITE: the module holds no asserts of its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.api_server import insert_rows

# Host name -> what GET /api/v1/hosts must say about it (the fields the seed decides).
EXPECTED: dict[str, dict[str, Any]] = {
    "web-up": {
        "status": "up",
        "worst_level": "critical",
        "active_incidents": 2,
        "cpu_percent": 12.5,
        "memory_percent": 91.0,
        "disk_percent": 55.0,
        "interval_seconds": 120.0,
        "agent_version": "1.4.2",
        "source": "agent",
        "clock_skew_seconds": 0.75,
        "registered": True,
    },
    "web-silent": {
        "status": "silent",
        "worst_level": "warning",
        "active_incidents": 1,
        "cpu_percent": 3.0,
        "interval_seconds": 30.0,
        "agent_version": "1.4.1",
        "clock_skew_seconds": -2.0,
        "registered": True,
    },
    "db-maintenance": {"status": "maintenance", "worst_level": None, "active_incidents": 0, "registered": True},
    "new-host": {"status": "never seen", "worst_level": None, "cpu_percent": None, "registered": True},
    # Samples only, five minutes apart (a monitor run by the scheduler): up, its interval read from its samples.
    "hub-itself": {"status": "up", "worst_level": "pending", "interval_seconds": 300.0, "registered": False},
}
HTML_NAME = '<img src=x onerror="window.__xss = 1">edge'  # a registered host whose name is markup


def _sample(name: str, at: datetime, cpu: float, memory: float = 40.0, disk: float = 50.0) -> dict[str, Any]:
    return {
        "timestamp": at,
        "hostname": name,
        "platform": "linux",
        "cpu_percent": cpu,
        "memory_percent": memory,
        "disk_percent": disk,
        "disk_mountpoint": "/",
    }


def _incident(host: str, metric: str, status: str, at: datetime) -> dict[str, Any]:
    return {"host": host, "metric": metric, "status": status, "started_at": at, "last_seen_at": at, "sample_count": 1}


def seed_fleet(database_url: str, now: datetime) -> None:
    """The fleet of EXPECTED, as of `now` (statuses hold for a few minutes after it)."""

    def ago(seconds: float) -> datetime:
        return now - timedelta(seconds=seconds)

    host = {  # every row names every column: one executemany
        "created_at": ago(86400),
        "key_hash": None,
        "source": "agent",
        **dict.fromkeys(("last_seen_at", "last_collected_at", "agent_version", "interval_seconds")),
        **dict.fromkeys(("clock_skew_seconds", "maintenance_since")),
    }
    insert_rows(
        database_url,
        "hosts",
        [
            {**host, "name": "web-up", "key_hash": "a" * 64, "last_seen_at": ago(5), "interval_seconds": 120.0,
             "agent_version": "1.4.2", "clock_skew_seconds": 0.75, "last_collected_at": ago(6)},
            {**host, "name": "web-silent", "key_hash": "b" * 64, "last_seen_at": ago(600), "interval_seconds": 30.0,
             "agent_version": "1.4.1", "clock_skew_seconds": -2.0},
            {**host, "name": "db-maintenance", "last_seen_at": ago(7200), "interval_seconds": 30.0,
             "maintenance_since": ago(3600)},
            {**host, "name": "new-host", "source": None},
            {**host, "name": HTML_NAME, "source": None},
        ],
    )  # fmt: skip
    insert_rows(
        database_url,
        "system_metrics",
        [
            _sample("web-up", ago(246), 80.0),
            _sample("web-up", ago(126), 70.0),
            _sample("web-up", ago(6), 12.5, memory=91.0, disk=55.0),
            _sample("web-silent", ago(630), 5.0),
            _sample("web-silent", ago(600), 3.0),
            _sample("db-maintenance", ago(7200), 1.0),
            _sample("hub-itself", ago(500), 20.0),
            _sample("hub-itself", ago(200), 21.0),
            _sample("web-silent", ago(900), 99.0),  # backfilled: a higher id, an older time
        ],
    )
    insert_rows(
        database_url,
        "alert_incidents",
        [
            _incident("web-up", "memory_percent", "critical", ago(60)),
            _incident("web-up", "cpu_percent", "warning", ago(60)),
            _incident("web-up", "disk_percent", "ok", ago(3600)),  # resolved: not counted
            _incident("web-silent", "host_silent", "warning", ago(300)),
            _incident("hub-itself", "cpu_percent", "pending", ago(200)),
        ],
    )
