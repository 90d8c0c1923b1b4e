"""Temperature sensors, where psutil offers them (Linux, FreeBSD)."""

from __future__ import annotations

from typing import NamedTuple

import psutil

from monitoring.catalogue import ResourceKind
from monitoring.collectors import CollectorSettings, SampleView
from monitoring.figures import Figures, ResourceFigures

PRODUCES = ("sensor_temperature_celsius", "sensor_high_celsius", "sensor_critical_celsius")


class SensorReading(NamedTuple):
    chip: str
    label: str | None
    current_celsius: float | None
    high_celsius: float | None
    critical_celsius: float | None


def collect(settings: CollectorSettings) -> list[SensorReading]:
    if not hasattr(psutil, "sensors_temperatures"):
        return []
    return [
        SensorReading(
            chip=chip,
            label=entry.label or None,
            current_celsius=entry.current,
            high_celsius=entry.high,
            critical_celsius=entry.critical,
        )
        for chip, entries in psutil.sensors_temperatures().items()
        for entry in entries
    ]


def figures(reading: list[SensorReading], sample: SampleView) -> Figures:
    return Figures.of(
        resources=[
            ResourceFigures(
                ResourceKind.SENSOR,
                {"chip": sensor.chip, "label": sensor.label},
                {
                    "sensor_temperature_celsius": sensor.current_celsius,
                    "sensor_high_celsius": sensor.high_celsius,
                    "sensor_critical_celsius": sensor.critical_celsius,
                },
            )
            for sensor in reading
        ],
        kind=ResourceKind.SENSOR,
    )
