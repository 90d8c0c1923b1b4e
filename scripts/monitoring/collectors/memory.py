"""Memory and swap usage."""

from __future__ import annotations

import psutil

from config.settings import Settings
from scripts.monitoring.sample import MemoryReading


def collect(settings: Settings) -> MemoryReading:
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
