"""Per-host levels: `@host` entries in the OVERRIDES keys, for a hub that grades the samples of many hosts.
The most specific entry wins, for each level on its own: @host:resource, resource, @host, the default."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from config.fields import ConfigError
from config.settings import load_settings
from dashboard.prometheus_rules import rules_yaml
from monitoring.catalogue import GRADED
from monitoring.grading import Measurement, grade
from monitoring.levels import Level, Levels
from pipeline.nagios import nagios_line
from tests.api_server import serving
from tests.conftest import MAIN, Workspace
from tests.db_servers import fetch
from tests.fleet_pushes import add_host, batch, collected_sample, push, sample_at
from tests.test_prometheus import promtool

FLEET = {
    "CPU_THRESHOLD_OVERRIDES": "@build1=90, @gpu-box=off",
    "CPU_CRITICAL_THRESHOLD_OVERRIDES": "@build1=99",
    "DISK_THRESHOLD_OVERRIDES": "/var/log=97,@db1:/data=85,@db1=80,@win1:c:=60",
    "DISK_CRITICAL_THRESHOLD_OVERRIDES": "/var/log=99,@db1=off",
}


def test_host_entries_take_precedence_in_order_for_each_level() -> None:
    thresholds = load_settings(FLEET).thresholds
    cpu, disk = thresholds["cpu_percent"], thresholds["disk_percent"]
    assert cpu.levels_for(host="build1") == Levels(90, 99)
    assert cpu.levels_for(host="gpu-box") == Levels(None, 95)
    assert cpu.levels_for(host="web1") == cpu.levels_for() == Levels(80, 95)
    assert cpu.levels_for(host="Build1") == Levels(80, 95)  # names match exactly, as the samples carry them
    assert disk.levels_for("/data", host="db1") == Levels(85, None)  # its own WARNING, the host's CRITICAL
    assert disk.levels_for("/var/log", host="db1") == Levels(97, 99)  # a resource before the host
    assert disk.levels_for("/", host="db1") == Levels(80, None)
    assert disk.levels_for("/data", host="web1") == Levels(90, 95)
    assert disk.levels_for("/var/log") == disk.levels_for("/var/log", host="web1") == Levels(97, 99)
    assert disk.levels_for("C:\\", host="win1") == Levels(60, 95)  # split at the first ':' after the host
    assert (disk.hosts, disk.resources_named(), disk.resources_named("db1")) == (
        ["db1", "win1"],
        ["/var/log"],
        ["/var/log", "/data"],
    )


@pytest.mark.parametrize("spec", GRADED, ids=[spec.name for spec in GRADED])
def test_every_graded_metric_takes_host_entries(spec) -> None:  # type: ignore[no-untyped-def]
    thresholds = load_settings(
        {
            f"{spec.env_prefix}_THRESHOLD_OVERRIDES": "@gpu-box=off",
            f"{spec.env_prefix}_CRITICAL_THRESHOLD_OVERRIDES": "@gpu-box=0",
        }
    ).thresholds[spec.name]
    assert thresholds.levels_for(host="gpu-box") == Levels(None, 0)
    assert thresholds.levels_for(host="other") == Levels(spec.warning, spec.critical)


MACHINE_WIDE = "@HOST=VALUE entries (CPU is measured once per machine, so an entry names a host, not a resource)"
BAD_ENTRIES = [
    ("CPU_THRESHOLD_OVERRIDES", "web1=90", f"{MACHINE_WIDE}, each host once"),
    ("CPU_THRESHOLD_OVERRIDES", "@web1=90,web2=90", "not the entry 'web2=90'"),
    ("CPU_THRESHOLD_OVERRIDES", "@fe80::1=90", "HOST a host name without ':'"),
    ("CPU_THRESHOLD_OVERRIDES", "@=90", "not the entry '@=90'"),
    ("CPU_THRESHOLD_OVERRIDES", "@web1", "not the entry '@web1'"),
    ("CPU_THRESHOLD_OVERRIDES", "@web1=fast", "VALUE a number from 0 to 100, or off; not the entry '@web1=fast'"),
    ("CPU_THRESHOLD_OVERRIDES", "@web1=90,@web1=70", "each host once"),
    ("CPU_THRESHOLD_OVERRIDES", "@web1=99", "a WARNING level not above the CRITICAL level for @web1 (95)"),
    ("CPU_CRITICAL_THRESHOLD_OVERRIDES", "@web1=50", "a CRITICAL level not below the WARNING level for @web1 (80)"),
    ("DISK_THRESHOLD_OVERRIDES", "@db1:data=90", "@HOST:MOUNT=VALUE entries, each named once"),
    ("DISK_THRESHOLD_OVERRIDES", "@db1:/data=80,@db1:/data/=85", "not the entry '@db1:/data/=85'"),
    ("GPU_TEMPERATURE_THRESHOLD_OVERRIDES", "@gpu-box:first=50", "GPU (index or UUID)"),
]


@pytest.mark.parametrize(("key", "value", "expected"), BAD_ENTRIES, ids=[f"{k}={v}" for k, v, _ in BAD_ENTRIES])
def test_a_bad_entry_is_one_line_naming_it(key: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({key: value})
    assert raised.value.key == key
    assert str(raised.value).startswith(f"{key}={value!r} is invalid; expected ")
    assert expected in str(raised.value)


def test_every_combination_of_host_and_resource_keeps_warning_below_critical() -> None:
    """Each entry is fine alone: /var/log at 80 under the CRITICAL 95, db1's CRITICAL 70 over its WARNING 60;
    /var/log on db1 takes both (80 over 70), and the key that set its WARNING is blamed."""
    with pytest.raises(ConfigError) as raised:
        load_settings(
            {
                "DISK_THRESHOLD": "60",
                "DISK_THRESHOLD_OVERRIDES": "/var/log=80",
                "DISK_CRITICAL_THRESHOLD_OVERRIDES": "@db1=70",
            }
        )
    assert str(raised.value) == (
        "DISK_THRESHOLD_OVERRIDES='/var/log=80' is invalid; "
        "expected a WARNING level not above the CRITICAL level for /var/log on @db1 (70)"
    )


def test_grading_and_perfdata_use_the_hosts_levels() -> None:
    thresholds = load_settings(FLEET).thresholds
    found = [
        Measurement("cpu_percent", 96),
        Measurement("disk_percent", 88, "/data", ("/data",)),
        Measurement("disk_percent", 98, "/var/log", ("/var/log",)),
    ]

    def graded(host: str | None) -> set[tuple[str, str | None, Level]]:
        return {(alert.metric, alert.resource, alert.level) for alert in grade(found, thresholds, host)}

    var_log = ("disk_percent", "/var/log", Level.WARNING)
    assert graded(None) == graded("web1") == {("cpu_percent", None, Level.CRITICAL), var_log}
    assert graded("build1") == {("cpu_percent", None, Level.WARNING), var_log}
    assert graded("gpu-box") == {("cpu_percent", None, Level.CRITICAL), var_log}  # its CRITICAL level stays
    assert graded("db1") == {
        ("cpu_percent", None, Level.CRITICAL),
        ("disk_percent", "/data", Level.WARNING),
        var_log,
    }
    line = nagios_line(found, grade(found, thresholds, "db1"), thresholds, [], "db1") + " "
    assert " cpu=96.00%;80;95;0;100 " in line and " disk_/data=88.00%;85;;0;100 " in line
    assert " cpu=96.00%;;95;0;100 " in nagios_line(found, [], thresholds, [], "gpu-box") + " "


def test_prometheus_rules_give_a_host_its_own_rule(tmp_path: Path) -> None:
    yaml = rules_yaml(load_settings(FLEET).thresholds)
    assert 'expr: "automation_cpu_usage_ratio{host!=\\"build1\\",host!=\\"gpu-box\\"} > 0.8"' in yaml
    assert 'expr: "automation_cpu_usage_ratio{host=\\"build1\\"} > 0.9"' in yaml
    assert 'labels: {severity: warning, metric: cpu_percent, host: "build1"}' in yaml
    assert 'automation_cpu_usage_ratio{host=\\"gpu-box\\"}' not in yaml  # off on gpu-box: no rule
    assert 'expr: "automation_cpu_usage_ratio{host!=\\"build1\\"} > 0.95"' in yaml
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml)
    checked = promtool("check", "rules", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _alerted_metrics(workspace: Workspace, hostname: str) -> set[str]:
    result = workspace.run("monitor", "--json", script=MAIN, MONITOR_HOSTNAME=hostname)
    assert result.returncode == 0, result.stderr
    return {alert["metric"] for alert in json.loads(result.stdout)["alerts"]}


@pytest.mark.slow
def test_a_monitor_run_grades_its_host_by_its_own_levels(workspace: Workspace) -> None:
    workspace.write_env(
        CPU_THRESHOLD="0",
        CPU_CRITICAL_THRESHOLD="0",
        MEMORY_THRESHOLD="0",
        CPU_THRESHOLD_OVERRIDES="@x=off",
        CPU_CRITICAL_THRESHOLD_OVERRIDES="@x=off",
    )
    assert {"cpu_percent", "memory_percent"} <= _alerted_metrics(workspace, "other")
    on_x = _alerted_metrics(workspace, "x")
    assert "memory_percent" in on_x and "cpu_percent" not in on_x
    report = workspace.run("monitor", "--no-save", script=MAIN, MONITOR_HOSTNAME="x")
    assert report.returncode == 0, report.stderr
    assert "   CPU:      off (critical: off)" in report.stdout.splitlines()


def test_a_plain_entry_for_a_machine_wide_metric_stops_the_run(workspace: Workspace) -> None:
    result = workspace.run("monitor", script=MAIN, CPU_THRESHOLD_OVERRIDES="web1=90")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("configuration error: CPU_THRESHOLD_OVERRIDES='web1=90' is invalid; expected ")
    assert len(result.stderr.splitlines()) == 1 and "not the entry 'web1=90'" in result.stderr


@pytest.mark.slow
def test_the_thresholds_document_shows_each_hosts_levels(tmp_path: Path) -> None:
    with serving(tmp_path, f"sqlite:///{tmp_path / 'automation.db'}", **FLEET) as server:
        levels = {item["metric"]: item for item in server.ok("/monitoring/thresholds")["items"]}
        catalogue = {item["metric"]: item for item in server.ok("/monitoring/catalogue")["items"]}
    for document in (levels, catalogue):
        cpu, disk = document["cpu_percent"], document["disk_percent"]
        assert (cpu["warning"], cpu["critical"], cpu["overrides"]) == (80, 95, {})
        assert cpu["hosts"] == {
            "build1": {"warning": 90, "critical": 99, "overrides": {}},
            "gpu-box": {"warning": None, "critical": 95, "overrides": {}},
        }
        assert disk["overrides"] == {"/var/log": {"warning": 97, "critical": 99}}
        assert disk["hosts"]["db1"] == {
            "warning": 80,
            "critical": None,
            "overrides": {"/var/log": {"warning": 97, "critical": 99}, "/data": {"warning": 85, "critical": None}},
        }
        assert disk["hosts"]["win1"]["overrides"]["C:\\"] == {"warning": 60, "critical": 95}


@pytest.mark.slow
def test_a_hub_grades_each_pushing_host_by_its_own_levels(tmp_path: Path) -> None:
    """Issue 12: ingested samples go through the monitor's path with the hub's thresholds, `@host` ones too."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with serving(
        tmp_path, url, CPU_THRESHOLD_OVERRIDES="@gpu-box=off", CPU_CRITICAL_THRESHOLD_OVERRIDES="@gpu-box=off"
    ) as hub:
        for name in ("web1", "gpu-box"):
            body = batch([(1, sample_at(collected_sample(), datetime.now(timezone.utc), 99.0))])
            reply = push(hub, add_host(hub, name), body)
            assert reply.status == 200 and reply.json()["stored"] == 1, reply.text
        notified = fetch(url, "SELECT host, level FROM notifications WHERE metric = 'cpu_percent'")
    assert [(row[0], row[1]) for row in notified] == [("web1", "CRITICAL")]
