"""CPU I/O wait and steal, the two metrics added through the catalogue alone: collected as counters, turned into
shares of the CPU time since the previous sample, stored, graded with their own levels (off by default), and shown
in the report, --json, the API, /metrics and the page's catalogue."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitoring.collectors import cpu
from monitoring.collectors.cpu import CpuReading, CpuTimes
from monitoring.collectors.registry import COLLECTORS, apply_rates
from monitoring.sample import Sample
from monitoring.snapshot import snapshot_of
from pipeline.json_output import render_json
from pipeline.monitor import monitor_once
from pipeline.report import render_report
from tests.api_server import Server, environ, insert_rows, main_py, serving
from tests.conftest import Workspace

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _sample(at: datetime, times: CpuTimes) -> Sample:
    sample = Sample(timestamp=at, hostname="vm1", platform="linux", boot_time=1_700_000_000.0)
    sample.cpu = CpuReading(logical_count=4, physical_count=2, times=times, core_times=[])
    return sample


def test_shares_of_the_cpu_time_since_the_previous_sample() -> None:
    before = _sample(T0, CpuTimes(busy_seconds=100, total_seconds=1000, iowait_seconds=50, steal_seconds=10))
    after = _sample(T0 + timedelta(minutes=5), CpuTimes(200, 2000, iowait_seconds=150, steal_seconds=60))
    apply_rates(after, snapshot_of(before), top_processes=5)
    assert after.cpu is not None
    assert (after.cpu.percent, after.cpu.iowait_percent, after.cpu.steal_percent) == (10.0, 10.0, 5.0)


def test_a_previous_sample_without_the_counters_gives_no_share_but_cpu_percent_still() -> None:
    """A sample stored before the platform counted I/O wait and steal has NULL there: no made-up share."""
    before = _sample(T0, CpuTimes(100, 1000))
    after = _sample(T0 + timedelta(minutes=5), CpuTimes(200, 2000, 150, 60))
    apply_rates(after, snapshot_of(before), top_processes=5)
    assert after.cpu is not None
    assert (after.cpu.percent, after.cpu.iowait_percent, after.cpu.steal_percent) == (10.0, None, None)


def test_after_a_reboot_the_shares_count_from_boot() -> None:
    before = _sample(T0, CpuTimes(5000, 90000, 4000, 900))
    rebooted = _sample(T0 + timedelta(hours=1), CpuTimes(30, 400, 40, 20))
    rebooted.boot_time = (T0 + timedelta(minutes=50)).timestamp()
    apply_rates(rebooted, snapshot_of(before), top_processes=5)
    assert rebooted.cpu is not None
    assert (rebooted.cpu.iowait_percent, rebooted.cpu.steal_percent) == (10.0, 5.0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="I/O wait and steal are Linux's counters")
def test_the_real_collector_reads_both_counters() -> None:
    times = cpu.collect(None).times  # type: ignore[arg-type]
    assert times.iowait_seconds is not None and times.steal_seconds is not None
    assert 0 <= times.iowait_seconds <= times.total_seconds and 0 <= times.steal_seconds <= times.total_seconds


def _stored_times(database: Path) -> CpuTimes:
    connection = sqlite3.connect(database)
    try:
        return CpuTimes(
            *connection.execute(
                "SELECT cpu_busy_seconds_total, cpu_seconds_total, cpu_iowait_seconds_total, cpu_steal_seconds_total "
                "FROM system_metrics ORDER BY id DESC LIMIT 1"
            ).fetchone()
        )
    finally:
        connection.close()


def _steal_25_percent(previous: CpuTimes) -> Callable[[object], CpuReading]:
    """The CPU collector, at the hardware boundary: since `previous`, 400 CPU seconds passed, of which 100
    busy (25 %), 40 waiting for I/O (10 %) and 100 stolen by the hypervisor (25 %)."""
    times = CpuTimes(
        previous.busy_seconds + 100,
        previous.total_seconds + 400,
        (previous.iowait_seconds or 0) + 40,
        (previous.steal_seconds or 0) + 100,
    )
    return lambda settings: CpuReading(logical_count=4, physical_count=2, times=times, core_times=[])


def test_a_stolen_vm_is_stored_graded_and_reported(workspace: Workspace, settings_for) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(
        CPU_STEAL_THRESHOLD="5", CPU_STEAL_CRITICAL_THRESHOLD="30", CPU_THRESHOLD="off", CPU_CRITICAL_THRESHOLD="off"
    )
    monitor_once(settings)  # real collectors: the counters the next run starts from
    result = monitor_once(
        settings, collectors={**COLLECTORS, "cpu": _steal_25_percent(_stored_times(workspace.database))}
    )

    connection = sqlite3.connect(workspace.database)
    connection.row_factory = sqlite3.Row
    try:
        stored = connection.execute(
            "SELECT cpu_percent, cpu_iowait_percent, cpu_steal_percent FROM system_metrics ORDER BY id DESC LIMIT 1"
        ).fetchone()
        notifications = connection.execute("SELECT level, metric, title, message FROM notifications").fetchall()
    finally:
        connection.close()
    assert (stored["cpu_percent"], stored["cpu_iowait_percent"], stored["cpu_steal_percent"]) == (25.0, 10.0, 25.0)
    assert [(row["level"], row["metric"]) for row in notifications] == [("WARNING", "cpu_steal_percent")]
    assert notifications[0]["message"] == "CPU steal is 25.0% (threshold: 5%)"

    report = render_report(result.sample, result.alerts, settings.thresholds, result.incidents, result.figures)
    assert "   iowait:   10.0%" in report and "   steal:    25.0%" in report
    assert "   steal:    5% (critical: 30%)" in report and "   iowait:   off (critical: off)" in report
    assert "⚠️  [WARNING] CPU steal is 25.0% (threshold: 5%) — active for 0s" in report
    document = json.loads(render_json(result.sample, result.alerts, result.sample_id, result.incidents))
    assert (document["cpu"]["iowait_percent"], document["cpu"]["steal_percent"]) == (10.0, 25.0)
    assert [(alert["metric"], alert["level"]) for alert in document["alerts"]] == [("cpu_steal_percent", "WARNING")]


def test_off_by_default(workspace: Workspace, settings_for) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(CPU_THRESHOLD="off", CPU_CRITICAL_THRESHOLD="off")
    monitor_once(settings)
    result = monitor_once(
        settings, collectors={**COLLECTORS, "cpu": _steal_25_percent(_stored_times(workspace.database))}
    )
    assert result.figures.machine["cpu_steal_percent"] == 25.0
    assert [alert.metric for alert in result.alerts if alert.metric.startswith("cpu_")] == []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("cpu-shares")
    url = f"sqlite:///{tmp / 'automation.db'}"
    main_py(environ(tmp, url), "db", "init")
    insert_rows(
        url,
        "system_metrics",
        [
            {
                "timestamp": T0 + timedelta(minutes=minute),
                "hostname": "vm1",
                "platform": "linux",
                "cpu_percent": 40.0,
                "cpu_iowait_percent": 2.0 + minute,
                "cpu_steal_percent": 12.5,
                "cpu_iowait_seconds_total": 1000.0 + minute,
                "cpu_steal_seconds_total": 500.0,
            }
            for minute in range(3)
        ],
    )
    with serving(tmp, url, CPU_IOWAIT_THRESHOLD="20") as running:
        yield running


def test_the_api_serves_them(server: Server) -> None:
    latest = server.ok("/monitoring/metrics/latest?hostname=vm1")
    assert (latest["cpu_iowait_percent"], latest["cpu_steal_percent"]) == (4.0, 12.5)
    series = server.ok("/api/v1/metrics/cpu?hostname=vm1")["data"]
    assert [row["cpu_iowait_percent"] for row in series] == [4.0, 3.0, 2.0]
    buckets = server.ok(
        "/monitoring/metrics?hostname=vm1&start_time=2026-03-01T12:00:00Z&end_time=2026-03-01T12:02:00Z&points=1"
    )["items"]
    assert buckets[0]["cpu_iowait_percent"] == {"avg": 3.0, "max": 4.0}
    catalogue = {item["metric"]: item for item in server.ok("/monitoring/catalogue")["items"]}
    iowait, steal = catalogue["cpu_iowait_percent"], catalogue["cpu_steal_percent"]
    assert (iowait["warning"], iowait["critical"], steal["warning"]) == (20.0, None, None)
    assert (
        iowait["chart_label"] == "I/O wait"
        and iowait["unit"] == "%"
        and iowait["machine_column"] == "cpu_iowait_percent"
    )
    assert iowait["summary"] and iowait["series"] == "cpu" and iowait["prometheus"] == "automation_cpu_iowait_ratio"


def test_prometheus_gets_ratios_and_counters(server: Server) -> None:
    text = server.get("/metrics").text
    assert re.search(r'^automation_cpu_iowait_ratio\{host="vm1"\} 0\.04$', text, re.M), text
    assert re.search(r'^automation_cpu_steal_ratio\{host="vm1"\} 0\.125$', text, re.M)
    assert re.search(r'^automation_cpu_steal_seconds_total\{host="vm1"\} 500\.0$', text, re.M)
    assert "# TYPE automation_cpu_iowait_seconds_total counter" in text
