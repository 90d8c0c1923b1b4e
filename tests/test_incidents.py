"""Incidents instead of spam: scripted scenarios drive the monitor through disk values injected at the
collector boundary and assert the exact notifications rows; the same scenario as separate processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest

from monitoring.catalogue import BY_NAME
from monitoring.collectors.disk import DiskReading, DisksReading
from monitoring.incidents import held_level
from monitoring.levels import Levels
from pipeline.monitor import monitor_once
from tests.conftest import MAIN, ROOT, Workspace
from tests.db_servers import fetch

SCENARIO = {"DISK_THRESHOLD": "80", "DISK_CRITICAL_THRESHOLD": "90", "MONITOR_SYSTEM_DISK": "/scenario"}
DRIVER = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from config.settings import load_settings
from pipeline.monitor import monitor_once
from monitoring.collectors.disk import DiskReading, DisksReading
value = float(sys.argv[1])
disk = lambda settings: DisksReading([DiskReading("/scenario", "/dev/x", "ext4", 100, int(value), 100 - int(value),
                                                  value)], None)
monitor_once(load_settings(), collectors={{"disk": disk}})
"""


def disk_at(percent: float):  # type: ignore[no-untyped-def]
    return {
        "disk": lambda settings: DisksReading(
            [DiskReading("/scenario", "/dev/x", "ext4", 100, int(percent), 100 - int(percent), percent)], None
        )
    }


def drive(settings_for, values: list[float], **settings: str) -> None:  # type: ignore[no-untyped-def]
    loaded = settings_for(**SCENARIO, **settings)
    for value in values:
        monitor_once(loaded, collectors=disk_at(value))


def notifications(workspace: Workspace) -> list[tuple]:
    connection = sqlite3.connect(workspace.database)
    try:
        return connection.execute("SELECT event, level, value, silenced FROM notifications ORDER BY id").fetchall()
    finally:
        connection.close()


def incidents(workspace: Workspace) -> list[tuple]:
    sql = "SELECT status, peak_level, min_value, max_value, sample_count, flapping FROM alert_incidents ORDER BY id"
    return [tuple(row) for row in fetch(f"sqlite:///{workspace.database}", sql)]


@pytest.mark.parametrize(
    ("value", "current", "expected"),
    [
        (85, None, "WARNING"),
        (95, None, "CRITICAL"),
        (80, None, None),  # no incident: the plain thresholds
        (88, "CRITICAL", "CRITICAL"),
        (84, "CRITICAL", "WARNING"),
        (76, "CRITICAL", "WARNING"),  # held by 5 points
        (75, "WARNING", None),
        (78, "WARNING", "WARNING"),
        (95, "WARNING", "CRITICAL"),  # escalation is at once
    ],
)
def test_hysteresis(value: float, current: str | None, expected: str | None) -> None:
    assert held_level(value, Levels(80, 90), current, BY_NAME["disk_percent"], 5) == expected


@pytest.mark.slow
def test_a_lasting_breach_is_one_firing_row_and_each_change_one_more(workspace: Workspace, settings_for) -> None:
    drive(settings_for, [85] * 10 + [95, 88, 84, 78, 70])
    assert notifications(workspace) == [
        ("firing", "WARNING", 85, 0),
        ("escalated", "CRITICAL", 95, 0),
        ("de-escalated", "WARNING", 84, 0),
        ("resolved", "INFO", 70, 0),
    ]
    assert incidents(workspace) == [("ok", "CRITICAL", 78, 95, 14, 0)]


def test_reminders_follow_the_repeat_setting(workspace: Workspace, settings_for) -> None:
    drive(settings_for, [85] * 4, ALERT_REPEAT_MINUTES="0")
    assert [row[0] for row in notifications(workspace)] == ["firing", "reminder", "reminder", "reminder"]


@pytest.mark.slow
def test_a_value_bouncing_around_the_threshold_is_no_storm(workspace: Workspace, settings_for) -> None:
    drive(settings_for, [81, 79] * 10)  # within the hysteresis: one incident that never recovers
    assert notifications(workspace) == [("firing", "WARNING", 81, 0)]


@pytest.mark.slow
def test_flapping_becomes_one_notification_then_quiet(workspace: Workspace, settings_for) -> None:
    drive(settings_for, [85, 70] * 10, ALERT_HYSTERESIS="0", ALERT_FLAP_COUNT="3")
    assert [row[0] for row in notifications(workspace)] == ["firing", "resolved", "firing", "flapping"]


@pytest.mark.slow
def test_flapping_ends_with_one_stable_row(workspace: Workspace, settings_for) -> None:
    drive(settings_for, [85, 70, 85, 70], ALERT_HYSTERESIS="0", ALERT_FLAP_COUNT="2", ALERT_FLAP_WINDOW="2s")
    time.sleep(2.2)
    drive(settings_for, [70, 70], ALERT_HYSTERESIS="0", ALERT_FLAP_COUNT="2", ALERT_FLAP_WINDOW="2s")
    assert [row[0] for row in notifications(workspace)] == ["firing", "resolved", "flapping", "stable"]


@pytest.mark.slow
def test_alert_for_holds_a_breach_pending(workspace: Workspace, settings_for) -> None:
    drive(settings_for, [85, 85, 70], DISK_ALERT_FOR="1h")  # a short spike: no row, no incident left
    assert notifications(workspace) == [] and incidents(workspace) == []
    drive(settings_for, [85], DISK_ALERT_FOR="1s")
    assert notifications(workspace) == [] and [row[0] for row in incidents(workspace)] == ["pending"]
    time.sleep(1.1)
    drive(settings_for, [86], DISK_ALERT_FOR="1s")
    assert notifications(workspace) == [("firing", "WARNING", 86, 0)]


@pytest.mark.slow
def test_acknowledged_incidents_get_no_reminders_and_silenced_rows_are_marked(
    workspace: Workspace, settings_for
) -> None:
    drive(settings_for, [85], ALERT_REPEAT_MINUTES="0")
    env = workspace.environ()
    ack = subprocess.run([sys.executable, str(MAIN), "alerts", "ack", "1"], env=env, capture_output=True, text=True)
    assert ack.returncode == 0 and ack.stdout.startswith("incident 1 acknowledged"), ack.stderr
    silence = subprocess.run(
        [sys.executable, str(MAIN), "alerts", "silence", "disk_percent:/scen*", "--until", "1h"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert silence.returncode == 0, silence.stderr
    drive(settings_for, [85, 85, 95], ALERT_REPEAT_MINUTES="0")
    assert notifications(workspace) == [("firing", "WARNING", 85, 0), ("escalated", "CRITICAL", 95, 1)]
    listing = subprocess.run([sys.executable, str(MAIN), "alerts", "list"], env=env, capture_output=True, text=True)
    assert (
        " critical " in listing.stdout
        and "acked" in listing.stdout
        and "silence 1: disk_percent:/scen*" in listing.stdout
    )


@pytest.mark.slow
def test_bad_alert_commands_are_one_line_and_exit_2(workspace: Workspace) -> None:
    env = workspace.environ()
    for arguments, expected in (
        (["ack", "7"], "error: no incident with id 7"),
        (["silence", "cpu_percent", "--until", "soon"], "error: --until='soon' is invalid"),
        (
            ["silence", "cpu_percent", "--until", "9999-12-31T23:00:00-05:00"],
            "error: --until='9999-12-31T23:00:00-05:00' is invalid",
        ),
        (["silence", " ", "--until", "1h"], "error: PATTERN='' is invalid"),
        (["unsilence", "nothing"], "error: no active silence 'nothing'"),
    ):
        result = subprocess.run(
            [sys.executable, str(MAIN), "alerts", *arguments], env=env, capture_output=True, text=True
        )
        assert result.returncode == 2 and result.stderr.startswith(expected), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_scenario_as_separate_processes(workspace: Workspace) -> None:
    """The state lives only in the database: one process per sample gives the same rows."""
    workspace.write_env(**SCENARIO)
    for value in [85, 85, 85, 95, 84, 70]:
        result = subprocess.run(
            [sys.executable, "-c", DRIVER, str(value)],
            env=workspace.environ(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
    assert notifications(workspace) == [
        ("firing", "WARNING", 85, 0),
        ("escalated", "CRITICAL", 95, 0),
        ("de-escalated", "WARNING", 84, 0),
        ("resolved", "INFO", 70, 0),
    ]
