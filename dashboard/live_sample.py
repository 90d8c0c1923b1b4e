"""The machine's figures now, for /monitoring/metrics/current and /api/v1/metrics/{current,processes}.

The monitor's own collectors run in the request's worker thread (never on the event loop) and never sleep: rates
are taken against the previous live sample, or for the first one against the counters read when the server
started. Concurrent requests share one collection, and a sample younger than MAX_AGE_SECONDS is served again,
so a page polling every few seconds or a burst of requests costs one collection a second at most.
"""

from __future__ import annotations

import threading
import time
from typing import Any, NamedTuple

from config.settings import Settings
from scripts.monitoring.monitor import collect_sample
from scripts.monitoring.persist import baseline_values, sample_rows
from scripts.monitoring.sample import CounterSnapshot, Sample
from scripts.monitoring.snapshot import live_snapshot, stored_snapshot
from storage.metrics_store import SampleRows, StoredCounters

MAX_AGE_SECONDS = 1.0
TOP_PROCESSES = 100  # /api/v1/metrics/processes serves up to this many per ranking


class LiveSample(NamedTuple):
    sample: Sample
    document: dict[str, Any]  # the system_metrics columns and detail lists, as /monitoring/metrics/latest has them
    monotonic_time: float


def sample_document(rows: SampleRows) -> dict[str, Any]:
    """A sample in the shape of a stored one: system_metrics columns, detail rows by table name."""
    document: dict[str, Any] = {"id": None, **rows.metric}
    for table_name, values in rows.details.items():
        document[table_name.removeprefix("system_metric_")] = values
    return document


def counters_of(rows: SampleRows, sample: Sample) -> CounterSnapshot:
    """The counters of a live sample, for the next one's rates (the same path as a stored sample's)."""
    details = rows.details
    return stored_snapshot(StoredCounters(rows.metric, details.get("system_metric_cpu_cores", []),
                                          details.get("system_metric_disks", []),
                                          details.get("system_metric_networks", []), baseline_values(sample)))


class LiveSampler:
    def __init__(self, settings: Settings, max_age_seconds: float = MAX_AGE_SECONDS) -> None:
        self._settings = settings._replace(top_processes=TOP_PROCESSES)
        self._max_age_seconds = max_age_seconds
        self._lock = threading.Lock()
        self._previous: CounterSnapshot | None = None
        self._latest: LiveSample | None = None

    def prime(self) -> None:
        """Read the counters the first sample's rates start from (at start-up, off the event loop)."""
        with self._lock:
            if self._previous is None:
                self._previous = live_snapshot(self._settings)

    def current(self) -> LiveSample:
        with self._lock:
            latest = self._latest
            if latest is not None and time.monotonic() - latest.monotonic_time < self._max_age_seconds:
                return latest
            if self._previous is None:
                self._previous = live_snapshot(self._settings)
            sample = collect_sample(self._settings, self._previous)
            rows = sample_rows(sample)
            self._previous = counters_of(rows, sample)
            self._latest = LiveSample(sample, sample_document(rows), time.monotonic())
            return self._latest
