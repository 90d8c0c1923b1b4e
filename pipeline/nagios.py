"""Nagios/Icinga plugin output: one status line with performance data; exit 0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from monitoring.alert_text import alert_line
from monitoring.catalogue import ResourceKind, Unit
from monitoring.grading import Alert, Measurement, measurement_levels
from monitoring.levels import Level, Levels, MetricThresholds
from monitoring.sample import CollectorOutcome

OK, WARNING_EXIT, CRITICAL_EXIT, UNKNOWN = 0, 1, 2, 3
_PLAIN_LABEL = re.compile(r"^[A-Za-z0-9_./:-]+$")


def nagios_exit_code(alerts: Sequence[Alert]) -> int:
    if any(alert.level is Level.CRITICAL for alert in alerts):
        return CRITICAL_EXIT
    return WARNING_EXIT if any(alert.level is Level.WARNING for alert in alerts) else OK


def nagios_line(
    measurements: Sequence[Measurement],
    alerts: Sequence[Alert],
    thresholds: Mapping[str, MetricThresholds],
    collectors: Sequence[CollectorOutcome],
    host: str | None = None,
) -> str:
    """The status follows the alerts; failed collectors are named, so an OK with a blind spot says so. `host`:
    the sample's, for its own levels in the performance data."""
    state = {OK: "OK", WARNING_EXIT: "WARNING", CRITICAL_EXIT: "CRITICAL"}[nagios_exit_code(alerts)]
    summary = "; ".join(alert_line(alert) for alert in alerts) if alerts else "all metrics within normal range"
    failed = [outcome.name for outcome in collectors if not outcome.success]
    if failed:
        summary += f" (collectors with errors: {', '.join(failed)})"
    perfdata = " ".join(
        _perfdata(measurement, levels)
        for measurement in measurements
        if _reported(measurement, levels := measurement_levels(measurement, thresholds, host))
    )
    return f"SYSTEM {state} - {summary} | {perfdata}".rstrip(" |")


def nagios_unknown(reason: str) -> str:
    return f"SYSTEM UNKNOWN - {reason}"


def _reported(measurement: Measurement, levels: Levels) -> bool:
    """A metric that is off unless set (the network ones) only where it is graded: four figures for every
    interface of a container host would crowd the plugin output past what Nagios keeps."""
    spec = measurement.spec
    if spec.warning is not None or spec.critical is not None:
        return True
    return levels != (None, None)


def _perfdata(measurement: Measurement, levels: Levels) -> str:
    spec = measurement.spec
    label = spec.short_label.lower().replace(" ", "_")  # cpu, memory, disk, gpu_temp, ...
    if spec.resource_kind in (ResourceKind.MOUNT, ResourceKind.INTERFACE):
        label += f"_{measurement.resource}"  # disk_/ , disk_/var, net_recv_eth0
    elif spec.resource_kind is ResourceKind.GPU:
        label += f"_{measurement.override_names[-1]}"  # by index: gpu_temp_0
    if not _PLAIN_LABEL.match(label):
        label = "'" + label.replace("'", "''") + "'"
    unit = "%" if spec.unit is Unit.PERCENT else ""
    maximum = "100" if spec.unit is Unit.PERCENT else ""
    return f"{label}={measurement.value:.2f}{unit};{_level(levels.warning)};{_level(levels.critical)};0;{maximum}"


def _level(level: float | None) -> str:
    """Plain decimal (perfdata has no exponents: 1e8 is 100000000), nothing when off."""
    return "" if level is None else f"{level:f}".rstrip("0").rstrip(".")
