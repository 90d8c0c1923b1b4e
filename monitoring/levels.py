"""Levels: what a notification or an alert is (INFO, WARNING, CRITICAL, ERROR), and the WARNING and CRITICAL
levels a metric is graded against, per resource and per host where overridden (config.thresholds reads them
from .env)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
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


HOST_MARK, HOST_SEPARATOR = "@", ":"


class MetricThresholds(NamedTuple):
    """The default levels and the overrides, keyed as written in .env: `RESOURCE`, `@HOST` or `@HOST:RESOURCE`."""

    spec: Metric
    default: Levels
    warning_overrides: Mapping[str, float | None] = MappingProxyType({})
    critical_overrides: Mapping[str, float | None] = MappingProxyType({})

    def levels_for(self, *resource_names: str | None, host: str | None = None) -> Levels:
        """Each level from the first name that overrides it (see override_keys), else the default."""
        if not self.warning_overrides and not self.critical_overrides:
            return self.default  # most metrics: the hub grades thousands of measurements a second
        keys = override_keys(resource_names, host)
        return Levels(
            _first(self.warning_overrides, keys, self.default.warning),
            _first(self.critical_overrides, keys, self.default.critical),
        )

    @property
    def overridden_resources(self) -> list[str]:
        """The resources named without a host (in .env order)."""
        return self.resources_named()

    @property
    def hosts(self) -> list[str]:
        """The hosts an override names (in .env order)."""
        return list(dict.fromkeys(host for host, _ in map(_split, self._keys) if host is not None))

    def resources_named(self, host: str | None = None) -> list[str]:
        """The resources named without a host and, given one, those named for it: where its levels may differ
        from its default ones."""
        named = map(_split, self._keys)
        return list(dict.fromkeys(resource for key_host, resource in named if resource and key_host in (None, host)))

    @property
    def _keys(self) -> list[str]:
        return list({**self.warning_overrides, **self.critical_overrides})


def _split(key: str) -> tuple[str | None, str | None]:
    """(host, resource) of an override key; either may be None."""
    if not key.startswith(HOST_MARK):
        return None, key
    host, _, resource = key[len(HOST_MARK) :].partition(HOST_SEPARATOR)
    return host, resource or None


def _first(overrides: Mapping[str, float | None], keys: tuple[str, ...], default: float | None) -> float | None:
    """The override of the first key named exactly, else of the first key a pattern entry matches (`web-*`, in
    .env order), else `default`."""
    for key in keys:
        if key in overrides:
            return overrides[key]
    patterns = [(pattern, value) for pattern, value in overrides.items() if is_pattern(pattern)]
    for key in keys if patterns else ():
        for pattern, value in patterns:
            if fnmatchcase(key, pattern):
                return value
    return default


def is_pattern(name: str) -> bool:
    """Whether an override entry names resources by a shell-style pattern (`*`, `?`)."""
    return "*" in name or "?" in name


def host_key(host: str, resource: str | None = None) -> str:
    """The override key of a host (`@web1`) or of one host's resource (`@web1:/var/log`)."""
    return f"{HOST_MARK}{host}" + (f"{HOST_SEPARATOR}{resource}" if resource is not None else "")


def override_keys(resource_names: Sequence[str | None], host: str | None) -> tuple[str, ...]:
    """The keys that may override a level, most specific first: the host's resource (a GPU's UUID before its
    index), the resource, the host. A resource whose own name starts with `@` is never taken for a host."""
    names = [name for name in resource_names if name is not None]
    plain = tuple(name for name in names if not name.startswith(HOST_MARK))
    if host is None:
        return plain
    return (*(host_key(host, name) for name in names), *plain, host_key(host))


def grade_value(value: float, levels: Levels) -> tuple[Level, float] | None:
    """(level, the threshold crossed), or None when the value is within range: a value strictly greater than
    the CRITICAL level is CRITICAL, else strictly greater than the WARNING level is WARNING."""
    if levels.critical is not None and value > levels.critical:
        return Level.CRITICAL, levels.critical
    if levels.warning is not None and value > levels.warning:
        return Level.WARNING, levels.warning
    return None
