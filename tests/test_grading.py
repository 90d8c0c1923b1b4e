"""Grading: strictly greater than the WARNING / CRITICAL level, per resource, and the alert wording."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from config.fields import ConfigError
from config.settings import load_settings
from monitoring.alert_text import alert_line, alert_message, alert_title
from monitoring.catalogue import BY_NAME, GRADED, ResourceKind
from monitoring.collectors.cpu import CpuReading, CpuTimes
from monitoring.collectors.disk import DiskReading, DisksReading
from monitoring.collectors.gpu import GpuReading, GpusReading
from monitoring.collectors.memory import MemoryReading
from monitoring.collectors.network import InterfaceReading, NetworkReading, NicCounters, NicRates
from monitoring.collectors.processes import ProcessCounters, ProcessesReading, ProcessInfo
from monitoring.collectors.registry import figures_of
from monitoring.grading import Measurement, grade, measurements
from monitoring.incidents import held_level
from monitoring.levels import Level, Levels, grade_value
from monitoring.sample import Sample
from monitoring.units import GIB, MIB
from pipeline.nagios import nagios_line

DEFAULTS = load_settings({}).thresholds
WARNING, CRITICAL = Level.WARNING, Level.CRITICAL


@pytest.mark.parametrize(
    ("value", "levels", "expected"),
    [
        (79.9, Levels(80, 95), None),
        (80.0, Levels(80, 95), None),  # equal is not above
        (80.1, Levels(80, 95), (WARNING, 80)),
        (85.5, Levels(80, 95), (WARNING, 80)),  # the seed's CPU example
        (95.0, Levels(80, 95), (WARNING, 80)),
        (96.2, Levels(85, 95), (CRITICAL, 95)),  # the seed's memory example
        (100.0, Levels(None, 95), (CRITICAL, 95)),  # WARNING off
        (99.0, Levels(80, None), (WARNING, 80)),  # CRITICAL off
        (99.0, Levels(None, None), None),
        (90.0, Levels(90, 90), None),
        (90.5, Levels(90, 90), (CRITICAL, 90)),
    ],
)
def test_grade_value(value: float, levels: Levels, expected: tuple[str, float] | None) -> None:
    assert grade_value(value, levels) == expected


@pytest.mark.parametrize(
    ("metric", "value", "level"),
    [
        ("cpu_percent", 85.5, WARNING),
        ("cpu_percent", 95.1, CRITICAL),
        ("cpu_percent", 80, None),
        ("memory_percent", 96.2, CRITICAL),
        ("memory_percent", 86, WARNING),
        ("disk_percent", 90.5, WARNING),
        ("disk_percent", 95.5, CRITICAL),
        ("swap_percent", 81, WARNING),
        ("load_per_core", 2.5, WARNING),
        ("load_per_core", 4.1, CRITICAL),
        ("gpu_utilization_percent", 91, WARNING),
        ("gpu_memory_percent", 96, CRITICAL),
        ("gpu_temperature_celsius", 85, WARNING),
        ("gpu_temperature_celsius", 91, CRITICAL),
    ],
)
def test_default_levels_of_every_metric(metric: str, value: float, level: str | None) -> None:
    alerts = grade([Measurement(metric, value)], DEFAULTS)
    assert [alert.level for alert in alerts] == ([level] if level else [])


def test_per_resource_override_applies_to_that_resource_only() -> None:
    thresholds = load_settings(
        {
            "DISK_THRESHOLD_OVERRIDES": "/var=93",
            "GPU_TEMPERATURE_THRESHOLD_OVERRIDES": "1=95",
            "GPU_TEMPERATURE_CRITICAL_THRESHOLD_OVERRIDES": "GPU-b=99,1=99",
        }
    ).thresholds
    found = [
        Measurement("disk_percent", 92, "/", ("/",)),
        Measurement("disk_percent", 92, "/var", ("/var",)),
        Measurement("gpu_temperature_celsius", 92, "GPU-a", ("GPU-a", "0")),
        Measurement("gpu_temperature_celsius", 92, "GPU-b", ("GPU-b", "1")),
    ]
    alerts = {(alert.metric, alert.resource): alert for alert in grade(found, thresholds)}
    assert set(alerts) == {("disk_percent", "/"), ("gpu_temperature_celsius", "GPU-a")}
    assert alerts[("gpu_temperature_celsius", "GPU-a")].level == CRITICAL
    assert thresholds["gpu_temperature_celsius"].levels_for("GPU-b", "1") == Levels(95, 99)


def test_one_alert_per_metric_and_resource_critical_first() -> None:
    found = [
        Measurement("cpu_percent", 85),
        Measurement("cpu_percent", 85),
        Measurement("memory_percent", 99),
        Measurement("disk_percent", 91, "/", ("/",)),
    ]
    alerts = grade(found, DEFAULTS)
    assert [(alert.metric, alert.level) for alert in alerts] == [
        ("memory_percent", CRITICAL),
        ("cpu_percent", WARNING),
        ("disk_percent", WARNING),
    ]


def _sample() -> Sample:
    sample = Sample(
        timestamp=datetime(2025, 10, 27, 14, 20, tzinfo=timezone.utc),
        hostname="server01",
        platform="linux",
        boot_time=None,
    )
    sample.cpu = CpuReading(8, 4, CpuTimes(0, 0), [], load_5m=20.0, percent=85.5)
    sample.memory = MemoryReading(int(8.00 * GIB), int(7.70 * GIB), int(0.3 * GIB), 96.2, 0, 0, 0.0)
    sample.disks = DisksReading(
        [
            DiskReading("/", "/dev/sda1", "ext4", 200 * GIB, 145 * GIB, 55 * GIB, 72.3),
            DiskReading("/data", "/dev/sdb1", "xfs", 100 * GIB, 92 * GIB, 8 * GIB, 92.0),
        ],
        None,
    )
    sample.gpus = GpusReading([GpuReading(0, "NVIDIA H100", "GPU-abc", 50.0, None, 81559.0, 1000.0, 88.0)])
    sample.processes = ProcessesReading(
        table=[ProcessCounters(1, 0, 0, None, None)],
        top_cpu=[
            ProcessInfo(10, "python", "ai", 60.0, 5.0, 100),
            ProcessInfo(11, "java", "app", 20.0, 9.0, 200),
            ProcessInfo(12, "gzip", "root", 5.0, 0.1, 5),
            ProcessInfo(13, "sh", "root", 1.0, 0.1, 5),
        ],
        top_memory=[ProcessInfo(11, "java", "app", 20.0, 60.5, 200)],
    )
    return sample


def test_measurements_of_a_sample() -> None:
    found = {(m.metric, m.resource): m.value for m in measurements(figures_of(_sample()))}
    assert found == {
        ("cpu_percent", None): 85.5,
        ("load_per_core", None): 2.5,
        ("memory_percent", None): 96.2,
        ("disk_percent", "/"): 72.3,
        ("disk_percent", "/data"): 92.0,
        ("gpu_utilization_percent", "GPU-abc"): 50.0,
        ("gpu_memory_percent", "GPU-abc"): pytest.approx(1.226, 0.01),
        ("gpu_temperature_celsius", "GPU-abc"): 88.0,
    }


def test_alert_wording_keeps_the_seed_lines() -> None:
    sample = _sample()
    alerts = {alert.metric: alert for alert in grade(measurements(figures_of(sample)), DEFAULTS)}
    assert alert_line(alerts["cpu_percent"]) == "CPU usage is 85.5% (threshold: 80%)"
    assert alert_line(alerts["memory_percent"]) == (
        "Memory usage is 96.2% (7.70GB / 8.00GB, threshold: 85%, critical: 95%)"
    )
    assert alert_line(alerts["disk_percent"]) == "Disk usage of /data is 92.0% (92.00GB / 100.00GB, threshold: 90%)"
    assert alert_line(alerts["gpu_temperature_celsius"]) == (
        "GPU temperature of GPU 0 (NVIDIA H100) is 88°C (threshold: 80°C)"
    )
    assert alert_title(alerts["memory_percent"], "server01") == "[CRITICAL] Memory usage 96.2% on server01"


def test_cpu_and_memory_messages_name_the_top_three_processes() -> None:
    sample = _sample()
    alerts = {alert.metric: alert for alert in grade(measurements(figures_of(sample)), DEFAULTS)}
    cpu_message = alert_message(alerts["cpu_percent"], sample)
    assert cpu_message.endswith(
        "Top processes by CPU: python (pid 10, 60.0% CPU), java (pid 11, 20.0% CPU), gzip (pid 12, 5.0% CPU)"
    )
    assert "java (pid 11, 60.5% memory)" in alert_message(alerts["memory_percent"], sample)
    assert "Top processes" not in alert_message(alerts["disk_percent"], sample)


# --- network interfaces ---------------------------------------------------------------------------------------


def _network_sample() -> Sample:
    """eth0 busy (received 50 MiB/s, 2+1 errors/s, 4+0 drops/s), wg0 quiet; lo-like interfaces are the
    collector's business (NETWORK_IGNORE_INTERFACES)."""
    sample = Sample(
        timestamp=datetime(2025, 10, 27, 14, 20, tzinfo=timezone.utc),
        hostname="server01",
        platform="linux",
        boot_time=None,
    )
    zero = NicCounters(0, 0, 0, 0, 0, 0, 0, 0)
    sample.network = NetworkReading(
        [
            InterfaceReading("eth0", zero, True, 1000, NicRates(5 * MIB, 50 * MIB, 0, 0, 2, 1, 4, 0)),
            InterfaceReading("wg0", zero, True, None, NicRates(1024, 2048, 0, 0, 0, 0, 0, 0)),
            InterfaceReading("eth1", zero, False, None, None),  # no rates yet: nothing to grade
        ]
    )
    return sample


def test_measurements_of_network_interfaces() -> None:
    found = {(m.metric, m.resource): m.value for m in measurements(figures_of(_network_sample()))}
    assert found == {
        ("network_recv_bytes_per_second", "eth0"): 50 * MIB,
        ("network_sent_bytes_per_second", "eth0"): 5 * MIB,
        ("network_errors_per_second", "eth0"): 3,
        ("network_drops_per_second", "eth0"): 4,
        ("network_recv_bytes_per_second", "wg0"): 2048,
        ("network_sent_bytes_per_second", "wg0"): 1024,
        ("network_errors_per_second", "wg0"): 0,
        ("network_drops_per_second", "wg0"): 0,
    }


# settings -> the (metric, interface, level) alerts of _network_sample()
NETWORK_CASES = [
    ("off by default", {}, set()),
    (
        "receive rate, every interface",
        {"NETWORK_RECV_THRESHOLD": str(10 * MIB)},
        {("network_recv_bytes_per_second", "eth0", WARNING)},
    ),
    (
        "receive rate, critical",
        {"NETWORK_RECV_THRESHOLD": "1000", "NETWORK_RECV_CRITICAL_THRESHOLD": str(40 * MIB)},
        {("network_recv_bytes_per_second", "eth0", CRITICAL), ("network_recv_bytes_per_second", "wg0", WARNING)},
    ),
    (
        "an override turns one interface off",
        {"NETWORK_RECV_THRESHOLD": "1000", "NETWORK_RECV_THRESHOLD_OVERRIDES": "wg0=off"},
        {("network_recv_bytes_per_second", "eth0", WARNING)},
    ),
    (
        "an override grades one interface only",
        {"NETWORK_SENT_THRESHOLD_OVERRIDES": "wg0=1e3"},
        {("network_sent_bytes_per_second", "wg0", WARNING)},
    ),
    (
        "errors and drops",
        {"NETWORK_ERRORS_THRESHOLD": "2.5", "NETWORK_DROPS_CRITICAL_THRESHOLD_OVERRIDES": "eth0=1"},
        {("network_errors_per_second", "eth0", WARNING), ("network_drops_per_second", "eth0", CRITICAL)},
    ),
]


@pytest.mark.parametrize(
    ("settings", "expected"), [case[1:] for case in NETWORK_CASES], ids=[case[0] for case in NETWORK_CASES]
)
def test_network_grading(settings: dict[str, str], expected: set[tuple[str, str, str]]) -> None:
    alerts = grade(measurements(figures_of(_network_sample())), load_settings(settings).thresholds)
    assert {(alert.metric, alert.resource, alert.level) for alert in alerts} == expected


def test_network_alert_wording_and_perfdata() -> None:
    thresholds = load_settings({"NETWORK_RECV_THRESHOLD": str(10 * MIB), "NETWORK_ERRORS_THRESHOLD": "1"}).thresholds
    found = measurements(figures_of(_network_sample()))
    alerts = {alert.metric: alert for alert in grade(found, thresholds)}
    assert alert_line(alerts["network_recv_bytes_per_second"]) == (
        "Network receive rate of eth0 is 50.00 MB/s (link 1000 Mbit/s, threshold: 10.00 MB/s)"
    )
    assert alert_line(alerts["network_errors_per_second"]) == (
        "Network errors of eth0 is 3.00/s (link 1000 Mbit/s, threshold: 1/s)"
    )
    line = nagios_line(found, list(alerts.values()), thresholds, []) + " "
    assert f" net_recv_eth0={50 * MIB:.2f};{10 * MIB};;0; " in line and " net_errors_wg0=0.00;1;;0; " in line
    assert "net_sent" not in line and "net_drops" not in line  # not graded: left out


SAMPLE_RESOURCES = {
    ResourceKind.MOUNT: "/var/log",
    ResourceKind.GPU: "GPU-8f2c1a3e",
    ResourceKind.INTERFACE: "Ethernet 2",
    ResourceKind.CONTAINER: "web-1",
}
PER_RESOURCE = [spec for spec in GRADED if spec.resource_kind]


@pytest.mark.parametrize("spec", PER_RESOURCE, ids=[spec.name for spec in PER_RESOURCE])
def test_every_metric_with_resources_takes_per_resource_overrides(spec) -> None:  # type: ignore[no-untyped-def]
    resource = SAMPLE_RESOURCES[spec.resource_kind]
    level = min(7, spec.maximum)  # the lifecycle flags go up to 1
    thresholds = load_settings(
        {
            f"{spec.env_prefix}_THRESHOLD_OVERRIDES": f"{resource}={level:g}",
            f"{spec.env_prefix}_CRITICAL_THRESHOLD_OVERRIDES": f"{resource}=off",
        }
    ).thresholds
    assert thresholds[spec.name].levels_for(resource) == Levels(level, None)
    assert thresholds[spec.name].levels_for("other") == Levels(spec.warning, spec.critical)
    with pytest.raises(ConfigError) as raised:
        load_settings({f"{spec.env_prefix}_THRESHOLD_OVERRIDES": f"{resource}"})
    assert raised.value.key == f"{spec.env_prefix}_THRESHOLD_OVERRIDES"


# (metric, levels, current level, value, level held): ALERT_HYSTERESIS=5 as points on a 0-100 scale, as 5 %
# of the threshold for unbounded figures, not at all for the disk-full prediction
HYSTERESIS_CASES = [
    ("disk_percent", Levels(80, None), WARNING, 76, WARNING),
    ("disk_percent", Levels(80, None), WARNING, 74.9, None),
    ("load_per_core", Levels(2, 4), WARNING, 1.91, WARNING),  # recovers below 1.9, not below 2 - 5
    ("load_per_core", Levels(2, 4), WARNING, 1.89, None),
    ("load_per_core", Levels(2, 4), CRITICAL, 3.81, CRITICAL),
    ("load_per_core", Levels(2, 4), CRITICAL, 3.79, WARNING),
    ("network_recv_bytes_per_second", Levels(1e8, None), WARNING, 0.96e8, WARNING),
    ("network_recv_bytes_per_second", Levels(1e8, None), WARNING, 0.94e8, None),
    ("network_errors_per_second", Levels(1, None), WARNING, 0.9, None),
    ("disk_full_prediction", Levels(100, None), WARNING, 99.9, None),
    ("disk_full_prediction", Levels(100, None), None, 100.1, WARNING),
]


@pytest.mark.parametrize(("metric", "levels", "current", "value", "held"), HYSTERESIS_CASES)
def test_hysteresis_by_kind_of_metric(
    metric: str, levels: Levels, current: str | None, value: float, held: str | None
) -> None:
    assert held_level(value, levels, current, BY_NAME[metric], 5) == held


def test_container_levels_take_name_patterns_an_exact_name_first() -> None:
    thresholds = load_settings(
        {
            "CONTAINER_MEMORY_THRESHOLD": "90",
            "CONTAINER_MEMORY_THRESHOLD_OVERRIDES": "web-*=70,web-1=off,@db?:pg-*=60",
        }
    ).thresholds["container_memory_percent"]
    assert thresholds.levels_for("web-2") == Levels(70, None)
    assert thresholds.levels_for("web-1") == Levels(None, None)  # the exact name wins over the pattern
    assert thresholds.levels_for("pg-main", host="db1") == Levels(60, None)
    assert thresholds.levels_for("pg-main", host="web1") == Levels(90, None)
    assert thresholds.levels_for("cache") == Levels(90, None)
