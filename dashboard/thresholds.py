"""The metric catalogue and the .env levels as JSON, so a page labels, formats and colours a figure exactly as
the monitor grades it (a value strictly above a level reaches it), with the levels of the .env file as it is now."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from config.fields import ConfigError
from config.paths import DEFAULT_ENV_FILE
from config.settings import Settings, read_values
from config.thresholds import parse_thresholds
from monitoring.catalogue import BY_NAME, CATALOGUE, Kind, Metric
from monitoring.levels import Levels, MetricThresholds

log = logging.getLogger("automation.dashboard")


class EnvThresholds:
    """The levels of .env as the file is now. The monitor reads .env on every run; a server that kept the levels
    it started with would colour figures by levels nobody grades against any more. A stat per call: the file is
    read again when its modification time or size changed. A file that no longer validates leaves the last good
    levels in force, with one warning naming the bad key."""

    def __init__(self, settings: Settings) -> None:
        self._path = settings.env_file or DEFAULT_ENV_FILE
        self._stamp = _stamp(self._path)
        self._thresholds = settings.thresholds
        self._lock = threading.Lock()

    def current(self) -> dict[str, MetricThresholds]:
        stamp = _stamp(self._path)
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._thresholds = self._read()
                    self._stamp = stamp
        return self._thresholds

    def _read(self) -> dict[str, MetricThresholds]:
        try:
            return parse_thresholds(read_values()[1])
        except ConfigError as error:
            log.warning("%s changed but is not valid (%s): the levels read before stay in force", self._path, error)
            return self._thresholds


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def threshold_levels(thresholds: dict[str, MetricThresholds]) -> list[dict[str, Any]]:
    return [
        {"metric": key, "label": item.spec.label, "unit": item.spec.unit, **_levels(item)}
        for key, item in thresholds.items()
    ]


def _levels(item: MetricThresholds) -> dict[str, Any]:
    """The levels, resolved: the default and per resource named; under `hosts`, the same for each host an
    `@host` override names (its own levels, every override that applies to it taken into account)."""
    return {
        **_host_levels(item, None),
        "hosts": {host: _host_levels(item, host) for host in item.hosts},
    }


def _host_levels(item: MetricThresholds, host: str | None) -> dict[str, Any]:
    return {
        **_pair(item.levels_for(host=host)),
        "overrides": {resource: _pair(item.levels_for(resource, host=host)) for resource in item.resources_named(host)},
    }


def _pair(levels: Levels) -> dict[str, float | None]:
    return {"warning": levels.warning, "critical": levels.critical}


def catalogue_document(thresholds: dict[str, MetricThresholds]) -> list[dict[str, Any]]:
    """Every metric: its name, labels, unit, kind, what it is measured per, where it is stored (the column of
    its resource's rows, and of the machine's), its API series, and for a graded one its current levels."""
    return [_metric_document(metric, thresholds.get(metric.name)) for metric in CATALOGUE]


def _metric_document(metric: Metric, thresholds: MetricThresholds | None) -> dict[str, Any]:
    share = metric.share_of
    return {
        "metric": metric.name,
        "label": metric.label,
        "short_name": metric.short_name,
        "chart_label": metric.page_label,
        "help": metric.help,
        "unit": metric.unit,
        "kind": metric.kind,
        "resource_kind": metric.resource_kind,
        "column": metric.column,
        "machine_column": metric.machine_column,
        "series": metric.series,
        "charted": metric.charted,
        "summary": metric.summary,
        "share_of": None
        if share is None
        else {
            "part": share[0],
            "whole": share[1],
            "part_column": _column(share[0], metric),
            "whole_column": _column(share[1], metric),
            "unit": BY_NAME[share[0]].unit,
        },
        "prometheus": _prometheus_name(metric),
        "graded": metric.graded,
        **(_levels(thresholds) if thresholds is not None else {}),
    }


def _column(name: str, owner: Metric) -> str | None:
    """Where the part or whole of `owner`'s share is stored in the rows `owner` is (machine or resource)."""
    other = BY_NAME[name]
    return other.machine_column if owner.resource_kind is None else other.column


def _prometheus_name(metric: Metric) -> str | None:
    if metric.prometheus is None:
        return None
    return f"automation_{metric.prometheus}" + ("_total" if metric.kind is Kind.COUNTER else "")
