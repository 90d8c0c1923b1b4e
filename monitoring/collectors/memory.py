"""Memory and swap usage."""

from __future__ import annotations

from typing import NamedTuple

import psutil

from monitoring.collectors import CollectorSettings, SampleView
from monitoring.figures import Figures
from monitoring.units import GIB

PRODUCES = (
    "memory_total_gb",
    "memory_used_gb",
    "memory_available_gb",
    "memory_percent",
    "swap_total_gb",
    "swap_used_gb",
    "swap_percent",
)


class MemoryReading(NamedTuple):
    """None where the sender does not measure it (the seeds' agents push no swap and no available memory)."""

    total_bytes: int
    used_bytes: int
    available_bytes: int | None
    percent: float
    swap_total_bytes: int | None = None
    swap_used_bytes: int | None = None
    swap_percent: float | None = None


def collect(settings: CollectorSettings) -> MemoryReading:
    memory = psutil.virtual_memory()
    swap = psutil.swap_memory()
    return MemoryReading(
        total_bytes=memory.total,
        used_bytes=memory.used,
        available_bytes=memory.available,
        percent=float(memory.percent),
        swap_total_bytes=swap.total,
        swap_used_bytes=swap.used,
        swap_percent=float(swap.percent),
    )


def figures(reading: MemoryReading, sample: SampleView) -> Figures:
    """Sizes in GiB, as the seed's *_gb columns hold them."""
    return Figures.of(
        {
            "memory_total_gb": reading.total_bytes / GIB,
            "memory_used_gb": reading.used_bytes / GIB,
            "memory_available_gb": _gib(reading.available_bytes),
            "memory_percent": reading.percent,
            "swap_total_gb": _gib(reading.swap_total_bytes),
            "swap_used_gb": _gib(reading.swap_used_bytes),
            "swap_percent": reading.swap_percent,
        }
    )


def _gib(size_bytes: int | None) -> float | None:
    return None if size_bytes is None else size_bytes / GIB
