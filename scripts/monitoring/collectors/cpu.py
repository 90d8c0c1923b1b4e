"""CPU: counts, load average, frequency and the cumulative CPU times that CPU % is computed from."""

from __future__ import annotations

import os

import psutil

from config.settings import Settings
from scripts.monitoring.sample import CpuReading, CpuTimes


def to_cpu_times(times: object) -> CpuTimes:
    """Busy and total seconds the way psutil's own cpu_percent counts them (Linux guest time is already
    inside user/nice, so it is not added twice)."""
    total = sum(times)  # type: ignore[arg-type]
    total -= getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    idle = getattr(times, "idle", 0.0) + getattr(times, "iowait", 0.0)
    return CpuTimes(busy_seconds=max(total - idle, 0.0), total_seconds=total)


def read_times() -> tuple[CpuTimes, list[CpuTimes]]:
    """Whole-machine and per-core cumulative times."""
    return to_cpu_times(psutil.cpu_times()), [to_cpu_times(core) for core in psutil.cpu_times(percpu=True)]


def collect(settings: Settings) -> CpuReading:
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
