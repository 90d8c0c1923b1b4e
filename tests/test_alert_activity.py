"""The printed report and --json list every active alert on every run with how long its incident has been
active, and pending ones with how long they have been pending: the monitor as a real process against a
SQLite file, the disk value injected at the collector boundary, incident times moved back in the database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from monitoring.alert_text import format_duration
from tests.conftest import ROOT, Workspace

DRIVER = ROOT / "tests" / "disk_driver.py"
SCENARIO = {
    "DISK_THRESHOLD": "80",
    "DISK_CRITICAL_THRESHOLD": "90",
    "MONITOR_SYSTEM_DISK": "/scenario",
    "DISK_ALERT_FOR": "1h",
    "ALERT_DISK_FULL_WITHIN_HOURS": "0",
}
GB = 2**30


def run(workspace: Workspace, percent: int, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(DRIVER), "/scenario", str(percent * GB), str(100 * GB), *args],
        env=workspace.environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def sql(workspace: Workspace, statement: str, *params: object) -> list[tuple]:
    with sqlite3.connect(workspace.database) as connection:
        return connection.execute(statement, params).fetchall()


def move_back(workspace: Workspace, column: str, by: timedelta) -> None:
    """As if the incident had started (or fired) that much earlier."""
    ((value,),) = sql(workspace, f"SELECT {column} FROM alert_incidents")
    sql(workspace, f"UPDATE alert_incidents SET {column} = ?", (datetime.fromisoformat(value) - by).isoformat(" "))


def lasted(workspace: Workspace, column: str) -> float:
    """Seconds from the incident's `column` to the newest sample."""
    ((since, sampled),) = sql(
        workspace, f"SELECT i.{column}, (SELECT max(timestamp) FROM system_metrics) FROM alert_incidents i"
    )
    return (datetime.fromisoformat(sampled) - datetime.fromisoformat(since)).total_seconds()


def alert_lines(report: str) -> list[str]:
    return [line.strip() for line in report.splitlines() if " [WARNING] " in line or " [CRITICAL] " in line]


@pytest.mark.slow
def test_every_run_shows_how_long_each_alert_has_been_pending_or_active(workspace: Workspace) -> None:
    workspace.write_env(**SCENARIO)
    subject = "Disk usage of /scenario is {}.0% ({}.00GB / 100.00GB, threshold: 80%)"

    assert alert_lines(run(workspace, 85)) == [f"⏳ [WARNING] {subject.format(85, 85)} — pending for 0s"]
    move_back(workspace, "started_at", timedelta(minutes=20))
    assert alert_lines(run(workspace, 85)) == [
        f"⏳ [WARNING] {subject.format(85, 85)} — pending for {format_duration(lasted(workspace, 'started_at'))}"
    ]
    assert sql(workspace, "SELECT count(*) FROM notifications") == [(0,)]  # pending: nothing written yet

    move_back(workspace, "started_at", timedelta(hours=1))  # held past DISK_ALERT_FOR: the next run fires
    assert alert_lines(run(workspace, 86)) == [f"⚠️  [WARNING] {subject.format(86, 86)} — active for 0s"]
    move_back(workspace, "fired_at", timedelta(hours=2, minutes=15))
    (alert,) = json.loads(run(workspace, 87, "--json"))["alerts"]
    ((incident_id, fired_at),) = sql(workspace, "SELECT id, fired_at FROM alert_incidents")
    assert (alert["incident_id"], alert["status"], alert["level"]) == (incident_id, "warning", "WARNING")
    assert datetime.fromisoformat(alert["since"]).replace(tzinfo=None) == datetime.fromisoformat(fired_at)
    assert alert["active_seconds"] == pytest.approx(lasted(workspace, "fired_at"))

    # Below the threshold but within the hysteresis: still active, so still listed, with its duration.
    assert alert_lines(run(workspace, 78)) == [
        f"⚠️  [WARNING] {subject.format(78, 78)} — active for {format_duration(lasted(workspace, 'fired_at'))}"
    ]
    assert "✅ All metrics within normal range" in run(workspace, 70)
    assert sql(workspace, "SELECT event FROM notifications ORDER BY id") == [("firing",), ("resolved",)]


def test_without_saving_there_is_no_incident_to_time(workspace: Workspace) -> None:
    workspace.write_env(**SCENARIO)
    run(workspace, 85)
    assert alert_lines(run(workspace, 95, "--no-save")) == [
        "🔴 [CRITICAL] Disk usage of /scenario is 95.0% (95.00GB / 100.00GB, threshold: 80%, critical: 90%)"
    ]
    (alert,) = json.loads(run(workspace, 95, "--no-save", "--json"))["alerts"]
    assert (alert["status"], alert["since"], alert["active_seconds"]) == (None, None, None)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (59.9, "59s"),
        (60, "1m"),
        (3599, "59m"),
        (3600, "1h"),
        (8100, "2h 15m"),
        (86400, "1d"),
        (86400 + 4 * 3600 + 59, "1d 4h"),
        (-5, "0s"),
    ],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected
