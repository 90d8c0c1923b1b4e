"""The printed report, laid out as the seed platform's (SYSTEM MONITORING REPORT ... Alerts: N issue(s))."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from monitoring.alert_text import activity, alert_line, format_threshold, format_value
from monitoring.catalogue import CATALOGUE
from monitoring.collectors.registry import figures_of
from monitoring.figures import Figures
from monitoring.grading import Alert, detail
from monitoring.incidents import Incident, IncidentStatus
from monitoring.levels import Level, MetricThresholds
from monitoring.sample import Sample
from monitoring.units import MIB, byte_rate, used_of_total

RULE = "=" * 60
# Machine-wide figures with a line of their own, after the CPU line (memory, swap, I/O wait, steal, ...).
_SUMMARY = tuple(metric for metric in CATALOGUE if metric.summary)


def render_report(
    sample: Sample,
    alerts: Sequence[Alert],
    thresholds: Mapping[str, MetricThresholds],
    incidents: Mapping[tuple[str, str], Incident] = MappingProxyType({}),
    figures: Figures | None = None,
) -> str:
    """The report; each alert with how long its incident (from `incidents`, by metric and resource) has been
    active or pending. `figures`: figures_of(sample), when the caller has them already."""
    lines = [
        RULE,
        "📊 SYSTEM MONITORING REPORT",
        RULE,
        f"Timestamp: {sample.timestamp:%Y-%m-%d %H:%M:%S} UTC",
        f"Hostname: {sample.hostname}",
        f"Platform: {sample.platform}",
        "",
        "📈 Current Metrics:",
    ]
    lines += [f"   {line}" for line in _metric_lines(sample, figures_of(sample) if figures is None else figures)]
    lines += ["", "⚙️  Thresholds:"]
    for metric in thresholds.values():  # the levels of this sample's host (its `@host` overrides applied)
        spec, levels = metric.spec, metric.levels_for(host=sample.hostname)
        line = (
            f"   {spec.short_label + ':':<9} {format_threshold(spec, levels.warning)} "
            f"(critical: {format_threshold(spec, levels.critical)})"
        )
        for resource in metric.resources_named(sample.hostname):
            level = metric.levels_for(resource, host=sample.hostname)
            line += f"; {resource}: {format_threshold(spec, level.warning)}/{format_threshold(spec, level.critical)}"
        lines.append(line)
    failed = [outcome for outcome in sample.collectors if not outcome.success]
    if failed:
        lines += ["", "⚠️  Collector errors:"]
        lines += [f"   {outcome.name}: {outcome.error}" for outcome in failed]
    lines.append("")
    if alerts:
        lines += [RULE, f"🚨 Alerts: {len(alerts)} issue(s) detected"]
        for alert in alerts:
            incident = incidents.get((alert.metric, alert.resource or ""))
            lines.append(
                f"   {_mark(alert, incident)} [{alert.level}] {alert_line(alert)}{activity(incident, sample.timestamp)}"
            )
    else:
        lines.append("✅ All metrics within normal range")
    lines.append(RULE)
    return "\n".join(lines)


def _mark(alert: Alert, incident: Incident | None) -> str:
    if incident is not None and incident.status == IncidentStatus.PENDING:
        return "⏳"
    return "🔴" if alert.level is Level.CRITICAL else "⚠️ "


def _metric_lines(sample: Sample, figures: Figures) -> list[str]:
    lines = _cpu_lines(sample) + _summary_lines(figures) + _disk_lines(sample) + _network_lines(sample)
    lines += _gpu_lines(sample) + _container_lines(sample)
    if sample.processes is not None and sample.processes.top_cpu:
        top = ", ".join(f"{info.name} ({info.cpu_percent:.1f}%)" for info in sample.processes.top_cpu[:3])
        lines.append(f"Top CPU:  {top}")
    if sample.rate_interval_seconds:
        lines.append(f"(rates averaged over the last {sample.rate_interval_seconds:.1f} s)")
    return lines


def _cpu_lines(sample: Sample) -> list[str]:
    cpu = sample.cpu
    if cpu is None:
        return []
    percent = "n/a" if cpu.percent is None else f"{cpu.percent:.1f}%"
    load = "" if cpu.load_1m is None else f", load {cpu.load_1m:.2f} / {cpu.load_5m:.2f} / {cpu.load_15m:.2f}"
    return [f"CPU:      {percent} ({cpu.logical_count} cores{load})"]


def _summary_lines(figures: Figures) -> list[str]:
    """`Memory:   2.4% (0.56GB / 23.54GB)`: each summary metric the sample has, with what it is a share of."""
    lines = []
    for metric in _SUMMARY:
        value = figures.machine.get(metric.name)
        if value is not None:
            share = detail(metric, figures.machine) if metric.share_of else None
            lines.append(
                f"{metric.short_label + ':':<9} {format_value(metric, float(value))}" + (f" ({share})" if share else "")
            )
    return lines


def _disk_lines(sample: Sample) -> list[str]:
    """The system disk first as `Disk:` (the seed's line), then every other mount."""
    if sample.disks is None:
        return []
    lines = []
    system = sample.system_disk_reading
    for disk in sorted(sample.disks.mounts, key=lambda disk: disk is not system):
        name = "Disk:" if disk is system else f"Disk {disk.mountpoint}:"
        io = ""
        if disk.rates:
            io = (
                f", read {byte_rate(disk.rates.read_bytes_per_second)}"
                f" write {byte_rate(disk.rates.write_bytes_per_second)}"
            )
        lines.append(f"{name:<9} {disk.percent:.1f}% ({used_of_total(disk.used_bytes, disk.total_bytes)}{io})")
    return lines


def _network_lines(sample: Sample) -> list[str]:
    network = sample.network
    if network is None:
        return []
    rates = network.total_rates
    now = (
        f" (now ↑ {byte_rate(rates.sent_bytes_per_second)} / ↓ {byte_rate(rates.recv_bytes_per_second)})"
        if rates
        else ""
    )
    return [f"Network: ↑ {network.sent_mb:.2f}MB / ↓ {network.recv_mb:.2f}MB{now}"]


def _container_lines(sample: Sample) -> list[str]:
    """`Containers: 7 via docker (5 running, 1 unhealthy, 2 exited non-zero, 1 OOM-killed)`, then the busiest
    running ones: cores used (1.00 = one core busy) and memory used of the limit."""
    reading = sample.containers
    if reading is None or reading.engine is None:
        return []
    items = reading.containers
    counts = [
        (sum(item.state == "running" for item in items), "running"),
        (sum(item.health == "unhealthy" for item in items), "unhealthy"),
        (sum(item.state == "restarting" for item in items), "restarting"),
        (sum(item.state == "exited" and bool(item.exit_code) for item in items), "exited non-zero"),
        (sum(bool(item.oom_killed) for item in items), "OOM-killed"),
    ]
    summary = ", ".join(f"{count} {what}" for count, what in counts if count)
    lines = [f"Containers: {len(items)} via {reading.engine}" + (f" ({summary})" if summary else "")]
    busiest = sorted(
        (item for item in items if item.state == "running"), key=lambda item: item.cpu_cores or 0.0, reverse=True
    )
    for item in busiest[:3]:
        cpu = (
            "CPU n/a"
            if item.cpu_cores is None
            else f"{item.cpu_cores:.2f} cores ({item.cpu_host_percent:.1f}% of host)"
        )
        memory = ""
        if item.memory_used_bytes is not None:
            limit = f" / {item.memory_limit_bytes / MIB:.0f}MiB" if item.memory_limit_bytes else ""
            memory = f", mem {item.memory_used_bytes / MIB:.1f}MiB{limit} ({item.memory_percent:.1f}%)"
        lines.append(f"   {item.name}: {cpu}{memory}")
    return lines


def _gpu_lines(sample: Sample) -> list[str]:
    if sample.gpus is None:
        return []
    if not sample.gpus.devices:
        return ["GPU:      none detected"]
    lines = []
    for gpu in sample.gpus.devices:
        parts = [gpu.name or "unknown"]
        if gpu.utilization_percent is not None:
            parts.append(f"util {gpu.utilization_percent:.0f}%")
        if gpu.memory_total_mib:
            parts.append(
                f"mem {gpu.memory_used_mib or 0:.0f}/{gpu.memory_total_mib:.0f}MiB ({gpu.memory_percent or 0:.1f}%)"
            )
        if gpu.temperature_celsius is not None:
            parts.append(f"{gpu.temperature_celsius:.0f}°C")
        if gpu.power_draw_watts is not None:
            limit = f"/{gpu.power_limit_watts:.0f}" if gpu.power_limit_watts else ""
            parts.append(f"{gpu.power_draw_watts:.0f}{limit}W")
        if gpu.fan_percent is not None:
            parts.append(f"fan {gpu.fan_percent:.0f}%")
        lines.append(f"{f'GPU {gpu.index}:':<9} " + ", ".join(parts))
    return lines
