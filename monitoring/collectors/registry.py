"""The collector registry: which collectors there are, running them, applying their rates, and a sample's
figures from their readings.

A collector that raises is recorded as failed with its error; the others still run. A collector that
returns a reading with `problems` (a vanished mount, an NVML error) succeeded in part and is recorded with
those problems as its error. Every collector's duration is recorded.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from types import ModuleType
from typing import Any, Protocol

import psutil

from monitoring.collectors import (
    COLLECTOR_NAMES,
    CollectorSettings,
    containers,
    cpu,
    disk,
    gpu,
    memory,
    network,
    processes,
    sensors,
)
from monitoring.figures import Figures
from monitoring.rates import CounterSnapshot, rebooted, zero_snapshot
from monitoring.sample import CollectorOutcome, Sample

MODULES: dict[str, ModuleType] = {
    "cpu": cpu,
    "memory": memory,
    "disk": disk,
    "network": network,
    "gpu": gpu,
    "sensors": sensors,
    "processes": processes,
    "containers": containers,
}
# The collect function each name runs (tests and drivers may swap one for a stand-in).
COLLECTORS: dict[str, Callable[[Any], Any]] = {name: module.collect for name, module in MODULES.items()}
assert tuple(COLLECTORS) == COLLECTOR_NAMES, "monitoring.collectors.COLLECTOR_NAMES must list every collector"
# The Sample field each collector's reading goes to.
SAMPLE_FIELDS = {
    "cpu": "cpu",
    "memory": "memory",
    "disk": "disks",
    "network": "network",
    "gpu": "gpus",
    "sensors": "sensors",
    "processes": "processes",
    "containers": "containers",
}
# Metrics of the sample itself rather than of a collector.
SAMPLE_PRODUCES = ("rate_interval_seconds", "collection_seconds")
# The counters each collector's rates start from: what is read back from the previous sample.
RATE_COUNTERS: tuple[str, ...] = (*cpu.RATE_COUNTERS, *disk.RATE_COUNTERS, *network.RATE_COUNTERS)

log = logging.getLogger(__name__)


class MonitorSettings(CollectorSettings, Protocol):
    """The settings a run of the collectors reads besides the collectors' own."""

    @property
    def hostname(self) -> str: ...

    @property
    def disabled_collectors(self) -> frozenset[str]: ...

    @property
    def top_processes(self) -> int: ...


def run_collectors(
    settings: MonitorSettings,
    collectors: dict[str, Callable[[Any], Any]] | None = None,
) -> tuple[dict[str, Any], list[CollectorOutcome]]:
    """Run every enabled collector; returns readings by name (failed ones absent) and their outcomes."""
    readings: dict[str, Any] = {}
    outcomes: list[CollectorOutcome] = []
    for name, collect in (collectors or COLLECTORS).items():
        if name in settings.disabled_collectors:
            continue
        started = time.perf_counter()
        error = None
        try:
            readings[name] = reading = collect(settings)
            problems = getattr(reading, "problems", None)
            error = "; ".join(problems) if problems else None
        except Exception as exc:  # noqa: BLE001 - one collector must not take the others down
            error = f"{type(exc).__name__}: {exc}"
            log.warning("collector %s failed: %s", name, error)
        outcomes.append(CollectorOutcome(name, time.perf_counter() - started, error))
    return readings, outcomes


def new_sample(settings: MonitorSettings) -> Sample:
    """An empty sample of this machine taken now, for the collectors' readings."""
    return Sample(
        timestamp=datetime.now(timezone.utc),
        hostname=settings.hostname,
        platform=sys.platform,
        boot_time=psutil.boot_time(),
        system_disk=settings.system_disk,
    )


def fill_sample(sample: Sample, readings: dict[str, Any]) -> None:
    for name, reading in readings.items():
        setattr(sample, SAMPLE_FIELDS[name], reading)


def _readings(sample: Sample) -> Iterator[tuple[ModuleType, Any]]:
    for name, field in SAMPLE_FIELDS.items():
        reading = getattr(sample, field)
        if reading is not None:
            yield MODULES[name], reading


def apply_rates(sample: Sample, previous: CounterSnapshot, top_processes: int) -> None:
    """Fill every rate of `sample` from `previous`; with no usable time span the rates stay None."""
    if rebooted(previous, sample.boot_time):
        previous = zero_snapshot(sample.boot_time)  # type: ignore[arg-type]
    elapsed_seconds = (sample.timestamp - previous.taken_at).total_seconds()
    if elapsed_seconds <= 0:
        if sample.processes is not None:
            processes.rank(sample.processes, {}, sample.timestamp, None, top_processes)
        return
    sample.rate_interval_seconds = elapsed_seconds
    for module, reading in _readings(sample):
        rates = getattr(module, "apply_rates", None)
        if rates is not None:
            rates(reading, previous, elapsed_seconds)
    if sample.processes is not None:
        processes.rank(sample.processes, previous.processes, sample.timestamp, elapsed_seconds, top_processes)


def collect_sample(
    settings: MonitorSettings, previous: CounterSnapshot, collectors: dict[str, Callable[[Any], Any]] | None = None
) -> Sample:
    """Run the collectors and derive rates and the named top processes against `previous`."""
    sample = new_sample(settings)
    readings, sample.collectors = run_collectors(settings, collectors)
    fill_sample(sample, readings)
    apply_rates(sample, previous, settings.top_processes)
    if sample.processes is not None:
        processes.name_top_processes(sample.processes)
    if sample.disks is not None and sample.system_disk_reading is None:
        log.warning(
            "MONITOR_SYSTEM_DISK=%s is not a monitored mount point: the disk_* columns stay empty", settings.system_disk
        )
    return sample


def figures_of(sample: Sample) -> Figures:
    """Every figure of a sample by the catalogue's names."""
    parts = [module.figures(reading, sample) for module, reading in _readings(sample)]
    sample_values = (sample.rate_interval_seconds, round(sample.collection_seconds, 6))
    parts.append(Figures.of(dict(zip(SAMPLE_PRODUCES, sample_values, strict=True))))
    return Figures.merged(parts)
