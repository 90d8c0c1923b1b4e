"""Disk filling up: the least-squares forecast (table-driven), the history query on a real SQLite file, and the
whole path through the monitor run as a real process: firing with the predicted time, recovery without
hysteresis when the prediction moves beyond the horizon, silences."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from monitoring.disk_forecast import MIN_SAMPLES, MIN_SPAN_FRACTION, forecast_disk
from monitoring.units import GIB
from storage import db, init_database
from storage.metrics_store import SampleRows, disk_usage_history, save_sample
from tests.conftest import MAIN, ROOT, Workspace

NOW = datetime(2025, 10, 27, 12, 0, tzinfo=timezone.utc)
HOUR = 3600.0
WINDOW, HORIZON = 6 * HOUR, 24 * HOUR
CAPACITY = 100 * GIB
DRIVER = ROOT / "tests" / "disk_driver.py"


def line(
    used_now_gib: float, gib_per_hour: float, hours_back: float, every_minutes: float, noise_gib: float = 0.0
) -> tuple[list[tuple[datetime, float]], float]:
    """History on a straight line (optionally +/- noise, alternating) before NOW, and the value at NOW."""
    history = []
    steps = int(hours_back * 60 / every_minutes)
    for step in range(steps, 0, -1):
        hours_ago = step * every_minutes / 60
        wobble = noise_gib if step % 2 else -noise_gib
        history.append((NOW - timedelta(hours=hours_ago), (used_now_gib - gib_per_hour * hours_ago + wobble) * GIB))
    return history, used_now_gib * GIB


# (case, used now GiB, GiB per hour, hours of history, minutes apart, noise GiB, expected hours to full or
#  None (not filling) or "none" (no forecast: too little data))
CASES = [
    ("filling: full in 10 h", 90, 1.0, 6, 30, 0, 10.0),
    ("filling slowly: full beyond the horizon", 50, 1.0, 6, 30, 0, 50.0),
    ("noise around the same line", 90, 1.0, 6, 5, 0.5, 10.0),
    ("flat", 90, 0.0, 6, 30, 0, None),
    ("shrinking", 90, -2.0, 6, 30, 0, None),
    ("history older than the window is left out", 80, 4.0, 12, 30, 0, 5.0),
    ("two samples: the current and one before", 90, 1.0, 2, 120, 0, "none"),
    ("three samples spanning the minimum", 90, 1.0, MIN_SPAN_FRACTION * 6, MIN_SPAN_FRACTION * 6 * 30, 0, 10.0),
    ("many samples spanning too little of the window", 90, 1.0, MIN_SPAN_FRACTION * 6 * 0.9, 1, 0, "none"),
]


@pytest.mark.parametrize(
    ("used_gib", "gib_per_hour", "hours_back", "every_minutes", "noise_gib", "full_in_hours"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_forecast(
    used_gib: float,
    gib_per_hour: float,
    hours_back: float,
    every_minutes: float,
    noise_gib: float,
    full_in_hours: float | str | None,
) -> None:
    history, used = line(used_gib, gib_per_hour, hours_back, every_minutes, noise_gib)
    forecast = forecast_disk(history, used, CAPACITY, NOW, WINDOW, HORIZON)
    if full_in_hours == "none":
        assert forecast is None
        return
    assert forecast is not None
    assert forecast.bytes_per_second == pytest.approx(gib_per_hour * GIB / HOUR, rel=0.05, abs=1e-6)
    assert forecast.projected_percent == pytest.approx(used_gib + 24 * gib_per_hour, abs=0.5)
    assert forecast.span_seconds == pytest.approx(min(hours_back, 6) * HOUR)
    if full_in_hours is None:
        assert forecast.full_at is None
    else:
        assert forecast.full_at is not None
        assert (forecast.full_at - NOW).total_seconds() / HOUR == pytest.approx(full_in_hours, rel=0.02)


def test_a_trend_already_past_the_capacity_is_full_now() -> None:
    history, used = line(100, 1.0, 6, 30)
    forecast = forecast_disk(history, used, CAPACITY, NOW, WINDOW, HORIZON)
    assert forecast is not None and forecast.full_at == NOW


@pytest.mark.parametrize("capacity", [0, -1])
def test_no_capacity_no_forecast(capacity: int) -> None:
    history, used = line(0, 1.0, 6, 30)
    assert forecast_disk(history, used, capacity, NOW, WINDOW, HORIZON) is None


def test_samples_dated_after_now_are_left_out() -> None:
    history, used = line(90, 1.0, 6, 30)
    history.append((NOW + timedelta(hours=1), 10 * GIB))  # a clock that was wrong
    forecast = forecast_disk(history, used, CAPACITY, NOW, WINDOW, HORIZON)
    assert forecast is not None and forecast.bytes_per_second == pytest.approx(GIB / HOUR)
    assert MIN_SAMPLES == 3


# --- the history query -------------------------------------------------------------------------------------


def store_history(database_url: str, host: str, mount: str, points: list[tuple[datetime, float]]) -> None:
    """Samples written by the monitor's own storage code, dated in the past."""
    init_database(database_url)
    with db.engine.begin() as connection:
        for moment, used in points:
            save_sample(
                connection,
                SampleRows(
                    metric={"timestamp": moment, "hostname": host},
                    details={
                        "system_metric_disks": [
                            {
                                "mountpoint": mount,
                                "used_bytes": int(used),
                                "total_bytes": CAPACITY,
                                "free_bytes": int(CAPACITY - used),
                                "percent": 100.0 * used / CAPACITY,
                            }
                        ]
                    },
                ),
                [],
                None,
            )


def test_the_history_query_is_bounded_by_host_and_time(workspace: Workspace) -> None:
    url = workspace.settings["DATABASE_URL"]
    history, _ = line(90, 1.0, 8, 60)
    store_history(url, "web1", "/data", history)
    store_history(url, "web2", "/data", history)
    store_history(url, "web1", "/", history[-2:])
    since, until = NOW - timedelta(hours=6), NOW - timedelta(hours=1)
    with db.engine.connect() as connection:
        found = disk_usage_history(connection, "web1", since, until)
    expected = [(moment, used) for moment, used in history if since <= moment < until]
    assert found == {"/data": expected, "/": [history[-2]]} and len(expected) == 5
    with sqlite3.connect(workspace.database) as connection:  # the window is found through the index
        plan = " ".join(
            row[-1]
            for row in connection.execute(
                "EXPLAIN QUERY PLAN SELECT d.mountpoint, m.timestamp, d.used_bytes FROM system_metrics m "
                "JOIN system_metric_disks d ON d.system_metric_id = m.id WHERE m.hostname = ? AND m.timestamp >= ? "
                "AND m.timestamp < ? AND d.used_bytes IS NOT NULL ORDER BY m.timestamp",
                ("web1", "a", "b"),
            )
        )
    assert "ix_system_metrics_hostname_timestamp" in plan and "ix_system_metric_disks_system_metric_id" in plan


# --- end to end: the monitor as a real process ----------------------------------------------------------------


def run_monitor(workspace: Workspace, used_bytes: int, *args: str, **settings: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(DRIVER), "/data", str(used_bytes), str(CAPACITY), *args],
        env=workspace.environ(**settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result


def prediction_rows(workspace: Workspace) -> list[tuple]:
    with sqlite3.connect(workspace.database) as connection:
        return connection.execute(
            "SELECT event, level, resource, threshold, silenced FROM notifications "
            "WHERE metric = 'disk_full_prediction' ORDER BY id"
        ).fetchall()


@pytest.mark.slow
def test_a_filling_disk_warns_with_the_predicted_time_then_recovers_without_hysteresis(workspace: Workspace) -> None:
    workspace.write_env(
        MONITOR_HOSTNAME="forecast-host",
        MONITOR_SYSTEM_DISK="/data",
        DISK_THRESHOLD="off",
        DISK_CRITICAL_THRESHOLD="off",
    )
    now = datetime.now(timezone.utc)
    history = [(now - timedelta(minutes=minutes), (88.5 - minutes / 60) * GIB) for minutes in range(330, 0, -30)]
    store_history(workspace.settings["DATABASE_URL"], "forecast-host", "/data", history)
    db.dispose()

    report = run_monitor(workspace, int(88.5 * GIB)).stdout  # 1 GiB/h with 11.5 GiB free: full in 11.5 h
    (line_,) = [text for text in report.splitlines() if "Projected disk usage of /data in 24h" in text]
    match = re.search(
        r"\[WARNING\] Projected disk usage of /data in 24h is 112\.\d% \(full at (\S+), "
        r"in 11h (29|30|31)m; trend \+1\.00GB/h over 5h 30m, threshold: 100%\) — active for 0s$",
        line_,
    )
    assert match, line_
    full_at = datetime.fromisoformat(match.group(1))
    assert full_at.utcoffset() is not None
    assert abs(full_at - (now + timedelta(hours=11.5))) < timedelta(minutes=2)
    assert prediction_rows(workspace) == [("firing", "WARNING", "/data", 100, 0)]

    # 10 h ahead the trend reaches 98.5 %: a points hysteresis would hold the incident; the prediction recovers.
    run_monitor(workspace, int(88.5 * GIB), "--quiet", ALERT_DISK_FULL_WITHIN_HOURS="10")
    assert prediction_rows(workspace)[1:] == [("resolved", "INFO", "/data", 100, 0)]

    silence = subprocess.run(
        [sys.executable, str(MAIN), "alerts", "silence", "disk_full_prediction:/data", "--until", "1h"],
        env=workspace.environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert silence.returncode == 0, silence.stderr
    run_monitor(workspace, int(88.5 * GIB), "--quiet")
    assert prediction_rows(workspace)[2:] == [("firing", "WARNING", "/data", 100, 1)]


def test_a_fresh_mount_predicts_nothing(workspace: Workspace) -> None:
    """Two samples, however steep, are not a trend."""
    workspace.write_env(MONITOR_HOSTNAME="forecast-host", MONITOR_SYSTEM_DISK="/data")
    run_monitor(workspace, int(10 * GIB), "--quiet")
    report = run_monitor(workspace, int(80 * GIB)).stdout
    assert "Projected disk usage" not in report and "✅ All metrics within normal range" in report
    assert prediction_rows(workspace) == []
