"""Grading: sample values against thresholds into WARNING or CRITICAL. Pure functions, no I/O.

A value strictly greater than the CRITICAL level is CRITICAL, else strictly greater than the WARNING level
is WARNING (defaults: CPU 85.5 % is WARNING, memory 96.2 % is CRITICAL).
"""

from collections.abc import Mapping
from typing import NamedTuple

from config.thresholds import METRICS_BY_KEY, Levels, MetricSpec, MetricThresholds
from scripts.monitoring.sample import Sample
from scripts.monitoring.units import used_of_total

WARNING, CRITICAL = "WARNING", "CRITICAL"


class Measurement(NamedTuple):
    """One gradable value: `resource` identifies it in the database (mount point, GPU UUID), `override_names`
    are the names a per-resource threshold may use, `display` and `detail` are for people."""

    metric: str
    value: float
    resource: str | None = None
    override_names: tuple[str, ...] = ()
    display: str | None = None
    detail: str | None = None

    @property
    def spec(self) -> MetricSpec:
        return METRICS_BY_KEY[self.metric]


class Alert(NamedTuple):
    measurement: Measurement
    level: str
    threshold: float
    levels: Levels

    @property
    def metric(self) -> str:
        return self.measurement.metric

    @property
    def resource(self) -> str | None:
        return self.measurement.resource

    @property
    def value(self) -> float:
        return self.measurement.value


def grade_value(value: float, levels: Levels) -> tuple[str, float] | None:
    """(level, the threshold crossed), or None when the value is within range."""
    if levels.critical is not None and value > levels.critical:
        return CRITICAL, levels.critical
    if levels.warning is not None and value > levels.warning:
        return WARNING, levels.warning
    return None


def grade(measurements: list[Measurement], thresholds: Mapping[str, MetricThresholds]) -> list[Alert]:
    """Alerts, CRITICAL first; one per (metric, resource) even if a measurement is listed twice."""
    alerts: dict[tuple[str, str | None], Alert] = {}
    for measurement in measurements:
        levels = thresholds[measurement.metric].levels_for(*measurement.override_names)
        graded = grade_value(measurement.value, levels)
        if graded is not None:
            alerts.setdefault((measurement.metric, measurement.resource),
                              Alert(measurement, graded[0], graded[1], levels))
    return sorted(alerts.values(), key=lambda alert: alert.level != CRITICAL)


def measurements(sample: Sample) -> list[Measurement]:
    """Every gradable value a sample holds."""
    found: list[Measurement] = []
    if sample.cpu is not None:
        if sample.cpu.percent is not None:
            found.append(Measurement("cpu_percent", sample.cpu.percent))
        if sample.cpu.load_per_core is not None:
            found.append(Measurement("load_per_core", sample.cpu.load_per_core,
                                     detail=f"load {sample.cpu.load_5m:.2f} on {sample.cpu.logical_count} cores"))
    memory = sample.memory
    if memory is not None:
        found.append(Measurement("memory_percent", memory.percent,
                                 detail=used_of_total(memory.used_bytes, memory.total_bytes)))
        if memory.swap_total_bytes > 0:
            found.append(Measurement(
                "swap_percent", memory.swap_percent,
                detail=used_of_total(memory.swap_used_bytes, memory.swap_total_bytes)))
    if sample.disks is not None:
        for disk in sample.disks.mounts:
            found.append(Measurement("disk_percent", disk.percent, resource=disk.mountpoint,
                                     override_names=(disk.mountpoint,), display=disk.mountpoint,
                                     detail=used_of_total(disk.used_bytes, disk.total_bytes)))
    for gpu in sample.gpus.devices if sample.gpus is not None else []:
        resource = gpu.uuid or str(gpu.index)
        names = tuple(name for name in (gpu.uuid, str(gpu.index)) if name)
        display = f"GPU {gpu.index}" + (f" ({gpu.name})" if gpu.name else "")
        values = {
            "gpu_utilization_percent": (gpu.utilization_percent, None),
            "gpu_memory_percent": (gpu.memory_percent,
                                   f"{gpu.memory_used_mib or 0:.0f}MiB / {gpu.memory_total_mib or 0:.0f}MiB"),
            "gpu_temperature_celsius": (gpu.temperature_celsius, None),
        }
        for metric, (value, detail) in values.items():
            if value is not None:
                found.append(Measurement(metric, value, resource, names, display, detail))
    return found + _network_measurements(sample)


def _network_measurements(sample: Sample) -> list[Measurement]:
    """Per interface with rates: receive and send rates, errors and drops (inbound plus outbound)."""
    found = []
    for nic in sample.network.interfaces if sample.network is not None else []:
        rates = nic.rates
        if rates is None:
            continue
        detail = f"link {nic.speed_mbps} Mbit/s" if nic.speed_mbps else None
        values = {
            "network_recv_bytes_per_second": rates.recv_bytes_per_second,
            "network_sent_bytes_per_second": rates.sent_bytes_per_second,
            "network_errors_per_second": rates.errors_in_per_second + rates.errors_out_per_second,
            "network_drops_per_second": rates.drops_in_per_second + rates.drops_out_per_second,
        }
        found += [Measurement(metric, value, nic.name, (nic.name,), nic.name, detail)
                  for metric, value in values.items()]
    return found
