"""Maintenance and removal of fleet hosts: `main.py hosts maintenance|remove` as real processes on SQLite,
PostgreSQL and MariaDB, the purge's batches, and the API routes on a real server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from db_servers import fetch
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from config.settings import Settings
from fleet.silent_hosts import check_silent_hosts
from storage import init_database, tables
from storage.host_store import purge_host
from storage.types import utc_now
from tests.api_server import TOKEN, serving
from tests.conftest import MAIN, Workspace

pytest_plugins = ["db_servers"]


def hosts(workspace: Workspace, *args: str) -> tuple[int, str, str]:
    result = workspace.run("hosts", *args, script=MAIN)
    return result.returncode, result.stdout, result.stderr


def fleet_with_history(database_url: str, now: datetime) -> Engine:
    """web1 silent with an open incident, two samples (one with a disk row), a notification with a delivery;
    web2 with a sample of its own."""
    engine = init_database(database_url)
    with engine.begin() as connection:
        connection.execute(insert(tables.fleet_state).values(id=1, checked_at=now))
        for name in ("web1", "web2"):
            connection.execute(
                insert(tables.hosts).values(name=name, created_at=now, last_seen_at=now, interval_seconds=30)
            )
        first = connection.execute(
            insert(tables.system_metrics).values(timestamp=now, hostname="web1", platform="linux")
        ).inserted_primary_key[0]
        connection.execute(
            insert(tables.system_metric_disks).values(system_metric_id=first, mountpoint="/", percent=50.0)
        )
        connection.execute(
            insert(tables.system_metrics),
            [
                {"timestamp": now + timedelta(seconds=30), "hostname": "web1"},
                {"timestamp": now, "hostname": "web2"},
            ],
        )
    return engine


def silent_incident(engine: Engine, settings: Settings, now: datetime) -> None:
    report = check_silent_hosts(engine, settings, now + timedelta(seconds=100))
    assert report.notifications == 2  # web1 and web2 went silent
    with engine.begin() as connection:
        [notification_id] = connection.execute(
            tables.notifications.select()
            .with_only_columns(tables.notifications.c.id)
            .where(tables.notifications.c.host == "web1")
        ).scalars()
        connection.execute(
            insert(tables.notification_deliveries).values(
                notification_id=notification_id,
                destination="json://x",
                destination_key="k",
                status="delivered",
                created_at=now,
            )
        )


def test_maintenance_closes_the_silent_incident_quietly_and_stops_silent_alerts(
    workspace: Workspace, database_url: str, settings_for: Callable[..., Settings]
) -> None:
    workspace.write_env(DATABASE_URL=database_url, HOST_CHECK_INTERVAL_SECONDS="3600")
    settings, now = settings_for(), utc_now()
    engine = fleet_with_history(database_url, now)
    silent_incident(engine, settings, now)

    assert hosts(workspace, "maintenance", "web1", "on") == (
        0,
        "host web1: in maintenance, no silent-host alerts; its silent-host incident was closed quietly\n",
        "",
    )
    closed = fetch(
        database_url,
        "SELECT n.title, n.event, n.level, n.silenced, i.status FROM notifications n "
        "JOIN alert_incidents i ON i.id = n.incident_id WHERE n.host = 'web1' ORDER BY n.id",
    )
    assert [tuple(row) for row in closed][-1][:2] == (
        "[RESOLVED] Time without a push on web1: closed quietly",
        "resolved",
    )
    assert bool(closed[-1][3]) and closed[-1][4] == "ok"
    assert fetch(database_url, "SELECT COUNT(*) FROM notification_deliveries")[0][0] == 1  # none for the closing
    assert check_silent_hosts(engine, settings, now + timedelta(seconds=400)).notifications == 1  # web2 only
    assert fetch(database_url, "SELECT COUNT(*) FROM alert_incidents WHERE host = 'web1'")[0][0] == 1

    assert hosts(workspace, "maintenance", "web1", "off") == (
        0,
        "host web1: maintenance off; it is watched for silence again\n",
        "",
    )
    assert fetch(database_url, "SELECT maintenance_since FROM hosts WHERE name = 'web1'")[0][0] is None
    assert check_silent_hosts(engine, settings, now + timedelta(seconds=500)).notifications == 1  # web1 again


def test_remove_keeps_the_history_and_purge_deletes_only_that_hosts(
    workspace: Workspace, database_url: str, settings_for: Callable[..., Settings]
) -> None:
    workspace.write_env(DATABASE_URL=database_url, HOST_CHECK_INTERVAL_SECONDS="3600")
    now = utc_now()
    engine = fleet_with_history(database_url, now)
    silent_incident(engine, settings_for(), now)

    code, out, err = hosts(workspace, "remove", "web2")
    assert (code, err) == (0, "")
    assert out == (
        "host web2 removed; its key no longer works; kept 1 sample(s) with their details, 1 notification(s), "
        "1 incident(s) (`--purge` deletes them)\n"
    )
    assert fetch(database_url, "SELECT status FROM alert_incidents WHERE host = 'web2'")[0][0] == "ok"

    code, out, err = hosts(workspace, "remove", "web1", "--purge")
    assert (code, err) == (0, "")
    assert out == (
        "host web1 removed; its key no longer works; deleted 2 sample(s) with their details, 1 notification(s), "
        "1 incident(s)\n"
    )
    counts = {
        table: fetch(database_url, f"SELECT COUNT(*) FROM {table}")[0][0]
        for table in ("hosts", "system_metrics", "system_metric_disks", "notifications", "notification_deliveries")
    }
    assert counts == {
        "hosts": 0,
        "system_metrics": 1,  # web2's, kept
        "system_metric_disks": 0,
        "notifications": 2,  # web2's firing and its quiet closing
        "notification_deliveries": 0,
    }


def test_a_purge_deletes_in_batches(tmp_path: Path) -> None:
    engine, now = init_database(f"sqlite:///{tmp_path / 'a.db'}"), utc_now()
    with engine.begin() as connection:
        connection.execute(insert(tables.hosts).values(name="web1", created_at=now))
        connection.execute(
            insert(tables.system_metrics),
            [{"timestamp": now + timedelta(seconds=index), "hostname": "web1"} for index in range(7)],
        )
    purged = purge_host(engine, "web1", batch_rows=2)
    assert purged is not None and (purged.samples, purged.notifications, purged.incidents) == (7, 0, 0)
    assert purge_host(engine, "web1") is None


@pytest.mark.slow
def test_unknown_hosts_and_bad_names_are_one_line_and_exit_2(workspace: Workspace) -> None:
    unknown = "error: NAME='nope' is not a host; `main.py hosts list` shows them"
    bad = (
        "error: NAME=' web' is invalid; expected a host name of 1 to 255 characters on one line, without control "
        "characters or white space at either end"
    )
    for args, line in {
        ("maintenance", "nope", "on"): unknown,
        ("remove", "nope"): unknown,
        ("remove", "nope", "--purge"): unknown,
        ("maintenance", " web", "off"): bad,
        ("remove", " web"): bad,
    }.items():
        assert hosts(workspace, *args) == (2, "", line + "\n"), args


@pytest.mark.slow
def test_the_api_routes_need_the_token_and_name_an_unknown_host(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'automation.db'}"
    fleet_with_history(url, utc_now()).dispose()  # pushed just now: not silent while the test runs
    with serving(tmp_path, url, API_TOKEN=TOKEN, HOST_CHECK_INTERVAL_SECONDS="3600") as server:
        assert server.request("PUT", "/api/v1/hosts/web1/maintenance", {"maintenance": True}).status == 401
        assert server.request("DELETE", "/api/v1/hosts/web1", token="wrong-token-0123456789").status == 401
        reply = server.request("PUT", "/api/v1/hosts/web1/maintenance", {"maintenance": True}, token=TOKEN)
        assert (reply.status, reply.json()) == (200, {"host": "web1", "maintenance": True, "incidents_closed": 0})
        reply = server.request("PUT", "/api/v1/hosts/web1/maintenance", {"maintenance": "maybe"}, token=TOKEN)
        assert reply.status == 422 and "maintenance" in reply.json()["detail"]
        reply = server.request("PUT", "/api/v1/hosts/nope/maintenance", {"maintenance": False}, token=TOKEN)
        assert (reply.status, reply.json()) == (404, {"detail": "no host named 'nope'"})
        reply = server.request("DELETE", "/api/v1/hosts/web1?purge=true", token=TOKEN)
        assert (reply.status, reply.json()) == (
            200,
            {"host": "web1", "purged": True, "samples": 2, "notifications": 0, "incidents": 0},
        )
        reply = server.request("DELETE", "/api/v1/hosts/web2", token=TOKEN)
        assert reply.status == 200 and reply.json()["purged"] is False and reply.json()["samples"] == 1
        assert server.request("DELETE", "/api/v1/hosts/web2", token=TOKEN).json() == {"detail": "no host named 'web2'"}
    assert fetch(url, "SELECT COUNT(*) FROM hosts")[0][0] == 0
    assert fetch(url, "SELECT COUNT(*) FROM system_metrics")[0][0] == 1
