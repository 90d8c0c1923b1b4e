"""CPU: counts, load average, frequency and the cumulative CPU times that CPU %, I/O wait % and steal % are
computed from."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import NamedTuple

import psutil

from monitoring.catalogue import ResourceKind
from monitoring.collectors import CollectorSettings, SampleView
from monitoring.figures import Figures, ResourceFigures, named_values
from monitoring.rates import CounterSnapshot, share_percent

PRODUCES = (
    "cpu_percent",
    "cpu_count",
    "cpu_physical_count",
    "cpu_frequency_mhz",
    "cpu_busy_seconds_total",
    "cpu_seconds_total",
    "cpu_core_percent",
    "cpu_core_busy_seconds_total",
    "cpu_core_seconds_total",
    "load_1m",
    "load_5m",
    "load_15m",
    "load_per_core",
    "cpu_iowait_seconds_total",
    "cpu_steal_seconds_total",
    "cpu_iowait_percent",
    "cpu_steal_percent",
)
# The cumulative times (CpuTimes' fields), as the catalogue names them for the whole machine and for one core.
_MACHINE_TIMES = ("cpu_busy_seconds_total", "cpu_seconds_total", "cpu_iowait_seconds_total", "cpu_steal_seconds_total")
_CORE_TIMES = ("cpu_core_busy_seconds_total", "cpu_core_seconds_total")
RATE_COUNTERS = (*_MACHINE_TIMES, *_CORE_TIMES)


class CpuTimes(NamedTuple):
    """Cumulative CPU seconds since boot: busy (everything but idle and I/O wait), all, and of those I/O wait and
    steal (None where the OS does not count them: I/O wait and steal are Linux's)."""

    busy_seconds: float
    total_seconds: float
    iowait_seconds: float | None = None
    steal_seconds: float | None = None


@dataclass(eq=False)
class CpuReading:
    JSON_PROPERTIES = ("load_per_core",)  # derived, graded: --json shows it beside the fields

    logical_count: int
    physical_count: int | None
    times: CpuTimes | None  # None where the sender gives percentages only (the seeds' agents)
    core_times: list[CpuTimes]
    load_1m: float | None = None
    load_5m: float | None = None
    load_15m: float | None = None
    frequency_mhz: float | None = None
    percent: float | None = None
    core_percents: list[float | None] = field(default_factory=list)
    iowait_percent: float | None = None
    steal_percent: float | None = None

    @property
    def load_per_core(self) -> float | None:
        return None if self.load_5m is None else self.load_5m / max(self.logical_count, 1)


def to_cpu_times(times: object) -> CpuTimes:
    """Busy and total seconds the way psutil's own cpu_percent counts them (Linux guest time is already
    inside user/nice, so it is not added twice)."""
    total = sum(times)  # type: ignore[call-overload]
    total -= getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    iowait = getattr(times, "iowait", None)
    idle = getattr(times, "idle", 0.0) + (iowait or 0.0)
    return CpuTimes(max(total - idle, 0.0), total, iowait, getattr(times, "steal", None))


def read_times() -> tuple[CpuTimes, list[CpuTimes]]:
    """Whole-machine and per-core cumulative times."""
    cores = [CpuTimes(*to_cpu_times(core)[:2]) for core in psutil.cpu_times(percpu=True)]
    return to_cpu_times(psutil.cpu_times()), cores


def collect(settings: CollectorSettings) -> CpuReading:
    times, core_times = read_times()
    reading = CpuReading(
        logical_count=psutil.cpu_count() or len(core_times) or 1,
        physical_count=psutil.cpu_count(logical=False),
        times=times,
        core_times=core_times,
    )
    if hasattr(os, "getloadavg"):  # psutil emulates it on Windows with a thread that needs 5 s of warm-up
        reading.load_1m, reading.load_5m, reading.load_15m = os.getloadavg()
    try:
        frequency = psutil.cpu_freq()
    except (OSError, NotImplementedError, RuntimeError):
        frequency = None
    if frequency is not None and frequency.current:
        reading.frequency_mhz = float(frequency.current)
    return reading


def cpu_percent(previous: CpuTimes | None, current: CpuTimes) -> float | None:
    """Busy share of the CPU time that passed between two readings, 0-100."""
    if previous is None:
        return None
    return share_percent(previous.busy_seconds, previous.total_seconds, current.busy_seconds, current.total_seconds)


def apply_rates(reading: CpuReading, previous: CounterSnapshot, elapsed_seconds: float) -> None:
    """CPU %, I/O wait % and steal % of the machine and CPU % of each core since `previous`."""
    now = reading.times
    before = previous.machine_counters(_MACHINE_TIMES[:2])
    if before is not None and now is not None:
        busy, total = before
        reading.percent = share_percent(busy, total, now.busy_seconds, now.total_seconds)
        reading.iowait_percent = _share_since(previous, _MACHINE_TIMES[2], total, now.iowait_seconds, now.total_seconds)
        reading.steal_percent = _share_since(previous, _MACHINE_TIMES[3], total, now.steal_seconds, now.total_seconds)
    cores = previous.resource_counters(ResourceKind.CORE, "core_index")
    reading.core_percents = []
    for index, times in enumerate(reading.core_times):
        core = previous.counters_in(cores.get(index), _CORE_TIMES)
        reading.core_percents.append(None if core is None else cpu_percent(CpuTimes(*core), times))


def _share_since(
    previous: CounterSnapshot, name: str, total_before: float | None, part_now: float | None, total_now: float
) -> float | None:
    """The share of the time that passed which the counter `name` grew by; None where either reading lacks it
    (another OS, or a sample stored before the platform counted it)."""
    part_before = previous.machine_counters((name,))
    if part_before is None or part_now is None:
        return None
    return share_percent(part_before[0], total_before, part_now, total_now)


def figures(reading: CpuReading, sample: SampleView) -> Figures:
    machine = {
        "cpu_percent": reading.percent,
        "cpu_count": reading.logical_count,
        "cpu_physical_count": reading.physical_count,
        "cpu_frequency_mhz": reading.frequency_mhz,
        **named_values(_MACHINE_TIMES, reading.times),
        "load_1m": reading.load_1m,
        "load_5m": reading.load_5m,
        "load_15m": reading.load_15m,
        "load_per_core": reading.load_per_core,
        "cpu_iowait_percent": reading.iowait_percent,
        "cpu_steal_percent": reading.steal_percent,
    }
    percents = reading.core_percents or [None] * len(reading.core_times)
    cores = [
        ResourceFigures(
            ResourceKind.CORE,
            {"core_index": index},
            {"cpu_core_percent": percent, **dict(zip(_CORE_TIMES, core_times[:2], strict=True))},
        )
        for index, (core_times, percent) in enumerate(zip(reading.core_times, percents, strict=True))
    ]
    return Figures.of(machine, cores, kind=ResourceKind.CORE)
