"""Words for alerts: the report line (the seed's wording), the notification title and message."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from monitoring.catalogue import Metric, Unit, ValueType
from monitoring.grading import Alert
from monitoring.incidents import Incident, IncidentStatus
from monitoring.levels import Level
from monitoring.units import byte_rate

if TYPE_CHECKING:
    from monitoring.collectors.processes import ProcessInfo
    from monitoring.sample import Sample

TOP_PROCESSES_IN_MESSAGE = 3
_UNIT_SUFFIXES = {Unit.PERCENT: "%", Unit.CELSIUS: "°C", Unit.PER_SECOND: "/s"}


def format_value(spec: Metric, value: float) -> str:
    """A measured value as people read it: `85.5%`, `84°C`, `12.50 MB/s`, `3.20/s`, `2.50`, `4` (a count),
    `yes` (a flag)."""
    if spec.unit is Unit.FLAG:
        return "yes" if value >= 0.5 else "no"
    if spec.value_type is ValueType.INTEGER:
        return f"{value:.0f}"
    if spec.unit is Unit.PERCENT:
        return f"{value:.1f}%"
    if spec.unit is Unit.CELSIUS:
        return f"{value:.0f}°C"
    if spec.unit is Unit.BYTES_PER_SECOND:
        return byte_rate(value)
    if spec.unit is Unit.SECONDS:
        return format_span(value)
    return f"{value:.2f}" + _UNIT_SUFFIXES.get(spec.unit, "")


def format_threshold(spec: Metric, threshold: float | None) -> str:
    """A level as set: `80%`, `90°C`, `95.37 MB/s`, `off`; a flag's level is `on` (any yes fires)."""
    if threshold is None:
        return "off"
    if spec.unit is Unit.FLAG:
        return "on"
    if spec.unit is Unit.BYTES_PER_SECOND:
        return byte_rate(threshold)
    if spec.unit is Unit.SECONDS:
        return format_span(threshold)
    return f"{threshold:g}" + _UNIT_SUFFIXES.get(spec.unit, "")


def alert_line(alert: Alert) -> str:
    """e.g. `Memory usage is 96.2% (7.70GB / 8.00GB, threshold: 85%, critical: 95%)`."""
    measurement, spec = alert.measurement, alert.measurement.spec
    subject = spec.label + (f" of {measurement.display}" if measurement.display else "")
    if spec.unit is Unit.FLAG:
        return subject  # `Killed for memory of container worker-2`: the level says the rest
    details = [measurement.detail] if measurement.detail else []
    details.append(f"threshold: {format_threshold(spec, alert.levels.warning)}")
    if alert.level is Level.CRITICAL:
        details.append(f"critical: {format_threshold(spec, alert.levels.critical)}")
    return f"{subject} is {format_value(spec, alert.value)} ({', '.join(details)})"


def activity(incident: Incident | None, now: datetime) -> str:
    """` — active for 2h 15m` (since it fired), ` — pending for 3m` (a breach not yet held for ALERT_FOR), or
    nothing where no incident state is known (a run with --no-save)."""
    if incident is None:
        return ""
    state = "pending" if incident.status == IncidentStatus.PENDING else "active"
    return f" — {state} for {format_duration((now - incident.since).total_seconds())}"


def alert_title(alert: Alert, hostname: str) -> str:
    measurement, spec = alert.measurement, alert.measurement.spec
    subject = spec.label + (f" of {measurement.display}" if measurement.display else "")
    value = "" if spec.unit is Unit.FLAG else f" {format_value(spec, alert.value)}"
    return f"[{alert.level}] {subject}{value} on {hostname}"


def alert_message(alert: Alert, sample: Sample) -> str:
    """The report line, plus the processes most responsible where the metric is explained by a top list
    (CPU and memory usage)."""
    message = alert_line(alert)
    processes, by = sample.processes, alert.measurement.spec.explained_by
    if processes is not None and by == "cpu":
        message += ". Top processes by CPU: " + _list(processes.top_cpu, by)
    elif processes is not None and by == "memory":
        message += ". Top processes by memory: " + _list(processes.top_memory, by)
    return message


def _list(infos: list[ProcessInfo], by: str) -> str:
    if not infos:
        return "none readable"
    parts = []
    for info in infos[:TOP_PROCESSES_IN_MESSAGE]:
        figure = f"{info.cpu_percent:.1f}% CPU" if by == "cpu" else f"{info.memory_percent or 0:.1f}% memory"
        parts.append(f"{info.name or '?'} (pid {info.pid}, {figure})")
    return ", ".join(parts)


def format_duration(seconds: float) -> str:
    """`45s`, `12m`, `2h 5m`, `3d 4h`: how long an incident has lasted, to the unit that matters."""
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def format_span(seconds: float) -> str:
    """`45s`, `2m 30s`, `1h 5m`, `3d 4h`: a length of time to its two largest units (how long a host was silent)."""
    seconds = max(round(seconds), 0)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count or parts:
            parts.append(f"{count}{unit}")
    return " ".join(part for part in parts[:2] if not part.startswith("0")) or "0s"
