"""The monitor job end to end: the real script as a subprocess with its own .env and SQLite database."""

from __future__ import annotations

import json
import socket
import sqlite3
from datetime import datetime

import psutil
import pytest

from monitoring.collectors.registry import COLLECTORS
from pipeline.monitor import monitor_once
from pipeline.report import render_report
from tests.conftest import MAIN, Workspace

# Host-dependent metrics switched off where a test counts alerts: a busy CI machine must not add one.
CALM = dict(
    CPU_THRESHOLD="off",
    CPU_CRITICAL_THRESHOLD="off",
    LOAD_THRESHOLD="off",
    LOAD_CRITICAL_THRESHOLD="off",
    SWAP_THRESHOLD="off",
    SWAP_CRITICAL_THRESHOLD="off",
)
REPORT_ORDER = [
    "📊 SYSTEM MONITORING REPORT",
    "Timestamp: ",
    "Hostname: ",
    "Platform: ",
    "📈 Current Metrics:",
    "   CPU:",
    "   Memory:",
    "   Disk:",
    "   Network: ↑ ",
    "⚙️  Thresholds:",
    "   CPU:      off (critical: off)",
    "   Memory:   85% (critical: 95%)",
    "   Disk:     90% (critical: 95%)",
]


def query(workspace: Workspace, sql: str, *params: object) -> list[sqlite3.Row]:
    connection = sqlite3.connect(workspace.database)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def assert_in_order(text: str, fragments: list[str]) -> None:
    position = 0
    for fragment in fragments:
        found = text.find(fragment, position)
        assert found >= 0, f"{fragment!r} missing (or out of order) in:\n{text}"
        position = found + len(fragment)


def test_a_run_from_any_directory_saves_a_sample_and_prints_the_seed_report(workspace: Workspace) -> None:
    workspace.write_env(**CALM)
    result = workspace.run(cwd=workspace.path)  # not the project root
    assert result.returncode == 0, result.stderr
    assert_in_order(result.stdout, REPORT_ORDER)
    assert result.stdout.rstrip().endswith("✅ All metrics within normal range\n" + "=" * 60)
    (row,) = query(workspace, "SELECT * FROM system_metrics")
    assert row["hostname"] == socket.gethostname()
    assert 0 <= row["cpu_percent"] <= 100 and row["cpu_count"] == psutil.cpu_count()
    assert 0 < row["memory_percent"] < 100 and row["memory_total_gb"] > 0
    assert row["disk_mountpoint"] == "/" and row["disk_total_gb"] > 0
    assert row["network_recv_mb"] >= 0 and row["rate_interval_seconds"] <= 1.0
    collectors = query(workspace, "SELECT collector, success, duration_seconds FROM system_metric_collectors")
    assert {item["collector"] for item in collectors} == set(COLLECTORS)
    assert all(item["success"] == 1 and item["duration_seconds"] >= 0 for item in collectors)
    assert query(workspace, "SELECT count(*) AS n FROM system_metric_disks")[0]["n"] >= 1
    assert query(workspace, "SELECT count(*) AS n FROM system_metric_cpu_cores")[0]["n"] == psutil.cpu_count()
    log = workspace.log_file.read_text()
    assert "| INFO | System Monitoring Started" in log and "| INFO | System Monitoring Completed" in log


def test_the_second_run_averages_over_the_time_since_the_first(workspace: Workspace) -> None:
    assert workspace.run("--quiet").returncode == 0
    assert workspace.run("--quiet").returncode == 0
    first, second = query(
        workspace,
        "SELECT timestamp, rate_interval_seconds, cpu_percent, "
        "network_recv_bytes_per_second FROM system_metrics ORDER BY id",
    )
    gap = (datetime.fromisoformat(second["timestamp"]) - datetime.fromisoformat(first["timestamp"])).total_seconds()
    assert 0 < first["rate_interval_seconds"] <= 0.5  # the first run's short sampling window
    assert second["rate_interval_seconds"] == pytest.approx(gap, abs=1e-3)  # from the stored counters
    assert second["cpu_percent"] is not None and second["network_recv_bytes_per_second"] >= 0
    baseline = query(workspace, "SELECT taken_at FROM process_cpu_baselines")
    assert [row["taken_at"] for row in baseline] == [second["timestamp"]]


def test_alerts_are_reported_and_written_once_each(workspace: Workspace) -> None:
    workspace.write_env(DISK_THRESHOLD="0", DISK_CRITICAL_THRESHOLD="0", MEMORY_THRESHOLD="0", **CALM)
    result = workspace.run()
    assert result.returncode == 0, result.stderr  # an alert is not a failed run
    assert "🚨 Alerts: 2 issue(s) detected" in result.stdout
    assert "🔴 [CRITICAL] Disk usage of / is " in result.stdout
    assert "⚠️  [WARNING] Memory usage is " in result.stdout and "threshold: 0%)" in result.stdout
    rows = query(workspace, "SELECT * FROM notifications ORDER BY id")
    assert [(row["level"], row["metric"], row["resource"]) for row in rows] == [
        ("CRITICAL", "disk_percent", "/"),
        ("WARNING", "memory_percent", None),
    ]
    sample_id = query(workspace, "SELECT id, hostname FROM system_metrics")[0]
    for row in rows:
        assert row["channel"] == "system_monitoring" and row["success"] == 1
        assert row["host"] == sample_id["hostname"] and row["system_metric_id"] == sample_id["id"]
        assert row["value"] > row["threshold"] == 0
        assert row["title"].startswith(f"[{row['level']}] ")
    assert "Top processes by memory: " in rows[1]["message"]


def test_json_output(workspace: Workspace) -> None:
    workspace.write_env(DISK_THRESHOLD="0", **CALM)
    result = workspace.run("--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert datetime.fromisoformat(document["timestamp"]).utcoffset().total_seconds() == 0
    assert document["id"] == query(workspace, "SELECT id FROM system_metrics")[0]["id"]
    assert document["memory"]["total_bytes"] == psutil.virtual_memory().total
    assert "table" not in document["processes"] and len(document["processes"]["top_memory"]) == 5
    assert document["cpu"]["load_per_core"] == pytest.approx(document["cpu"]["load_5m"] / psutil.cpu_count())
    (alert,) = document["alerts"]
    assert alert["metric"] == "disk_percent" and alert["level"] == "WARNING" and alert["threshold"] == 0
    assert [line.split(" | ")[1] for line in result.stderr.splitlines()] == ["WARNING"]  # INFO stays in the log


@pytest.mark.parametrize(
    ("settings", "exit_code", "state"),
    [
        ({}, 0, "OK"),
        ({"DISK_THRESHOLD": "0"}, 1, "WARNING"),
        ({"DISK_THRESHOLD": "0", "DISK_CRITICAL_THRESHOLD": "0"}, 2, "CRITICAL"),
    ],
)
def test_nagios_plugin_output(workspace: Workspace, settings: dict[str, str], exit_code: int, state: str) -> None:
    workspace.write_env(**settings, **CALM, MEMORY_THRESHOLD="90", MEMORY_CRITICAL_THRESHOLD="95")
    result = workspace.run("--nagios")
    assert result.returncode == exit_code
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"SYSTEM {state} - ")
    status, perfdata = line.split(" | ")
    for item in perfdata.split():
        label, values = item.split("=", 1)
        value, warn, crit, minimum, maximum = values.split(";")
        assert float(value.rstrip("%")) >= 0 and minimum == "0"
    assert "cpu=" in perfdata and "disk_/=" in perfdata and "memory=" in perfdata and ";90;95;0;100" in perfdata


def test_no_save_touches_no_database(workspace: Workspace) -> None:
    result = workspace.run("--no-save")
    assert result.returncode == 0 and "SYSTEM MONITORING REPORT" in result.stdout
    assert not workspace.database.exists()


def test_quiet_prints_nothing_but_saves(workspace: Workspace) -> None:
    workspace.write_env(**CALM)
    result = workspace.run("--quiet")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    assert len(query(workspace, "SELECT id FROM system_metrics")) == 1


def test_main_py_monitor_is_the_same_job(workspace: Workspace) -> None:
    result = workspace.run("monitor", "--json", script=MAIN)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == 1
    assert workspace.run("--help", script=MAIN).stdout.count("monitor") >= 1


@pytest.mark.parametrize(("args", "exit_code"), [((), 1), (("--nagios",), 3)])
def test_an_unusable_database_is_one_error_line(workspace: Workspace, args: tuple[str, ...], exit_code: int) -> None:
    blocker = workspace.path / "not-a-dir"
    blocker.write_text("a file where the data folder should be")
    workspace.write_env(DATABASE_URL=f"sqlite:///{blocker}/automation.db")
    result = workspace.run(*args)
    assert result.returncode == exit_code
    assert "Traceback" not in result.stderr + result.stdout
    if args:
        assert result.stdout.startswith("SYSTEM UNKNOWN - System Monitoring Failed: ")
    else:
        assert result.stderr.splitlines() == [line for line in result.stderr.splitlines() if " | INFO | " in line] + [
            f"System Monitoring Failed: DatabaseUnavailable: cannot create the folder {blocker}: File exists"
        ]


def test_log_file_rotates_by_size(workspace: Workspace) -> None:
    workspace.write_env(LOG_MAX_BYTES="300", LOG_BACKUP_COUNT="2", LOG_LEVEL="DEBUG")
    for _ in range(3):
        assert workspace.run("--quiet").returncode == 0
    logs = sorted(path.name for path in workspace.log_file.parent.iterdir())
    assert logs == ["automation.log", "automation.log.1", "automation.log.2"]


def test_a_console_without_emoji_gets_the_report_anyway(workspace: Workspace) -> None:
    result = workspace.run(PYTHONIOENCODING="ascii")
    assert result.returncode == 0, result.stderr
    assert "SYSTEM MONITORING REPORT" in result.stdout


def test_a_failed_collector_is_recorded_and_reported(settings_for) -> None:
    def broken(settings: object) -> None:
        raise PermissionError("no access to /proc/diskstats")

    settings = settings_for()
    result = monitor_once(settings, collectors={**COLLECTORS, "disk": broken})
    assert result.sample.disks is None and result.sample.memory is not None and result.sample_id
    report = render_report(result.sample, result.alerts, settings.thresholds)
    assert "⚠️  Collector errors:\n   disk: PermissionError: no access to /proc/diskstats" in report


def test_no_save_reads_the_last_sample_for_rates_but_writes_nothing(workspace: Workspace) -> None:
    assert workspace.run("--quiet").returncode == 0
    before = query(workspace, "SELECT count(*) AS n FROM system_metrics")[0]["n"]
    result = workspace.run("--no-save", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    stored_at = datetime.fromisoformat(query(workspace, "SELECT timestamp FROM system_metrics")[0]["timestamp"])
    gap = (datetime.fromisoformat(document["timestamp"]).replace(tzinfo=None) - stored_at).total_seconds()
    assert document["id"] is None
    assert document["rate_interval_seconds"] == pytest.approx(gap, abs=1e-3)  # from the stored sample, no sleep
    assert query(workspace, "SELECT count(*) AS n FROM system_metrics")[0]["n"] == before


def test_an_unknown_system_disk_is_a_warning(workspace: Workspace) -> None:
    workspace.write_env(MONITOR_SYSTEM_DISK="/no/such/mount")
    result = workspace.run("--quiet")
    assert result.returncode == 0
    assert "MONITOR_SYSTEM_DISK=/no/such/mount is not a monitored mount point" in result.stderr
    (row,) = query(workspace, "SELECT disk_percent, disk_mountpoint FROM system_metrics")
    assert row["disk_percent"] is None and row["disk_mountpoint"] is None


def test_a_previous_row_without_counters_falls_back_to_a_short_window(settings_for, workspace: Workspace) -> None:
    """A row the seed platform wrote for this host has no counters: rates must not silently stay empty."""
    from datetime import timedelta, timezone

    from storage import init_database

    settings = settings_for()

    init_database(settings.database_url)
    seed_time = (datetime.now(timezone.utc) - timedelta(seconds=60)).replace(tzinfo=None)
    connection = sqlite3.connect(workspace.database)
    with connection:
        connection.execute(
            "INSERT INTO system_metrics (timestamp, hostname, cpu_percent) VALUES (?, ?, 12.5)",
            (seed_time.isoformat(sep=" "), settings.hostname),
        )
    connection.close()
    result = monitor_once(settings)
    assert result.sample.rate_interval_seconds is not None and result.sample.rate_interval_seconds < 1
    assert result.sample.cpu is not None and result.sample.cpu.percent is not None
