"""Temperature sensors, where psutil offers them (Linux, FreeBSD)."""

from __future__ import annotations

import psutil

from config.settings import Settings
from scripts.monitoring.sample import SensorReading


def collect(settings: Settings) -> list[SensorReading]:
    if not hasattr(psutil, "sensors_temperatures"):
        return []
    return [
        SensorReading(chip=chip, label=entry.label or None, current_celsius=entry.current,
                      high_celsius=entry.high, critical_celsius=entry.critical)
        for chip, entries in psutil.sensors_temperatures().items()
        for entry in entries
    ]
