"""Levels: what a notification or an alert is (INFO, WARNING, CRITICAL, ERROR), and the WARNING and CRITICAL
levels a metric is graded against, per resource where overridden (config.thresholds reads them from .env)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from monitoring.catalogue import Metric
from monitoring.text_enum import TextEnum


class Level(TextEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
    ERROR = "ERROR"


class Levels(NamedTuple):
    """WARNING and CRITICAL levels of one metric (or one resource of it); None means that level is off."""

    warning: float | None
    critical: float | None


class MetricThresholds(NamedTuple):
    spec: Metric
    default: Levels
    warning_overrides: Mapping[str, float | None] = MappingProxyType({})
    critical_overrides: Mapping[str, float | None] = MappingProxyType({})

    def levels_for(self, *resource_names: str | None) -> Levels:
        """Each level from the first name that overrides it (a GPU's UUID before its index), else the default."""
        return Levels(
            _first(self.warning_overrides, resource_names, self.default.warning),
            _first(self.critical_overrides, resource_names, self.default.critical),
        )

    @property
    def overridden_resources(self) -> list[str]:
        return list({**self.warning_overrides, **self.critical_overrides})


def _first(overrides: Mapping[str, float | None], names: tuple[str | None, ...], default: float | None) -> float | None:
    return next((overrides[name] for name in names if name is not None and name in overrides), default)


def grade_value(value: float, levels: Levels) -> tuple[Level, float] | None:
    """(level, the threshold crossed), or None when the value is within range: a value strictly greater than
    the CRITICAL level is CRITICAL, else strictly greater than the WARNING level is WARNING."""
    if levels.critical is not None and value > levels.critical:
        return Level.CRITICAL, levels.critical
    if levels.warning is not None and value > levels.warning:
        return Level.WARNING, levels.warning
    return None
