"""Grading: a sample's figures against thresholds into WARNING or CRITICAL. Pure functions, no I/O.

Every graded metric of the catalogue is measured wherever the figures have a value for it: the machine-wide
ones once, the per-resource ones per resource. A value strictly greater than the CRITICAL level is CRITICAL,
else strictly greater than the WARNING level is WARNING (defaults: CPU 85.5 % is WARNING, memory 96.2 % is
CRITICAL).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from string import Formatter
from typing import NamedTuple

from monitoring.catalogue import BY_NAME, GRADED, RESOURCE_KINDS, Metric, Unit
from monitoring.figures import Figures, Value
from monitoring.levels import Level, Levels, MetricThresholds, grade_value
from monitoring.units import GIB, used_of_total


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
    def spec(self) -> Metric:
        return BY_NAME[self.metric]


class Alert(NamedTuple):
    measurement: Measurement
    level: Level
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


def grade(
    measurements: list[Measurement], thresholds: Mapping[str, MetricThresholds], host: str | None = None
) -> list[Alert]:
    """Alerts, CRITICAL first; one per (metric, resource) even if a measurement is listed twice. `host`: the
    sample's host, for its own levels (`@host` overrides)."""
    alerts: dict[tuple[str, str | None], Alert] = {}
    for measurement in measurements:
        levels = measurement_levels(measurement, thresholds, host)
        graded = grade_value(measurement.value, levels)
        if graded is not None:
            alerts.setdefault(
                (measurement.metric, measurement.resource), Alert(measurement, graded[0], graded[1], levels)
            )
    return sorted(alerts.values(), key=lambda alert: alert.level is not Level.CRITICAL)


def measurement_levels(
    measurement: Measurement, thresholds: Mapping[str, MetricThresholds], host: str | None
) -> Levels:
    """The levels a measurement of `host` is graded against."""
    return thresholds[measurement.metric].levels_for(*measurement.override_names, host=host)


_MACHINE_GRADED = tuple(metric for metric in GRADED if metric.resource_kind is None)
_GRADED_BY_KIND = {kind: tuple(metric for metric in GRADED if metric.resource_kind is kind) for kind in RESOURCE_KINDS}


def measurements(figures: Figures) -> list[Measurement]:
    """Every gradable value the figures hold: the machine's, then each resource's, in the catalogue's order."""
    found = [
        Measurement(metric.name, float(value), detail=detail(metric, figures.machine))
        for metric in _MACHINE_GRADED
        if (value := gradable(metric, figures.machine)) is not None
    ]
    for kind, graded in _GRADED_BY_KIND.items():
        for resource in figures.of_kind(kind):
            key, names, display, values = resource.key, resource.override_names, resource.display, resource.values
            found += [
                Measurement(metric.name, float(value), key, names, display, detail(metric, values))
                for metric in graded
                if (value := gradable(metric, values)) is not None
            ]
    return found


def gradable(metric: Metric, values: Mapping[str, Value]) -> Value:
    """The metric's value, unless there is none or it is a share of nothing (swap on a machine without any)."""
    value = values.get(metric.name)
    if value is None or (metric.share_of is not None and not values.get(metric.share_of[1])):
        return None
    return value


def detail(metric: Metric, values: Mapping[str, Value]) -> str | None:
    """For people, what the value is made of: `7.70GB / 8.00GB`, `load 9.20 on 8 cores`, `link 1000 Mbit/s`."""
    if metric.share_of is not None:
        part, whole = (float(values.get(name) or 0) for name in metric.share_of)
        unit = BY_NAME[metric.share_of[0]].unit
        if unit is Unit.MIB:
            return f"{part:.0f}MiB / {whole:.0f}MiB"
        scale = GIB if unit is Unit.GIB else 1
        return used_of_total(part * scale, whole * scale)
    if metric.detail is not None and all(values.get(name) is not None for name in _fields(metric.detail)):
        return metric.detail.format_map(values)
    return None


@functools.cache
def _fields(template: str) -> tuple[str, ...]:
    """The names a detail template reads (parsed once: every sample's every measurement asks)."""
    return tuple(name for _, name, _, _ in Formatter().parse(template) if name)
