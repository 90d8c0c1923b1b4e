"""The machine's figures now, for /monitoring/metrics/current and /api/v1/metrics/{current,processes}.

The monitor's own collectors run in a worker thread (never on the event loop) and never sleep: rates are taken
against the previous live sample, or for the first one against the counters read when the server started.
Concurrent requests share one collection, and a sample younger than MAX_AGE_SECONDS is served again (its JSON
encoded once), so a page polling every few seconds or a burst of requests costs one collection a second at most.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from config.settings import Settings
from dashboard.cache import TimedCache
from dashboard.responses import encode_json
from scripts.monitoring.monitor import collect_sample
from scripts.monitoring.persist import baseline_values, sample_rows
from scripts.monitoring.sample import CounterSnapshot, Sample
from scripts.monitoring.snapshot import live_snapshot, stored_snapshot
from storage.metrics_store import SampleRows, StoredCounters

MAX_AGE_SECONDS = 1.0
TOP_PROCESSES = 100  # /api/v1/metrics/processes serves up to this many per ranking


class LiveSample(NamedTuple):
    document: dict[str, Any]  # system_metrics columns and detail lists as stored; processes: the top 100 of each
    body: bytes  # the JSON of /monitoring/metrics/current: processes cut to MONITOR_TOP_PROCESSES


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
        self._shown_processes = settings.top_processes
        self._cache: TimedCache[LiveSample] = TimedCache(max_age_seconds)
        self._previous: CounterSnapshot | None = None

    def prime(self) -> None:
        """Read the counters the first sample's rates start from (at start-up, off the event loop)."""
        self._previous = live_snapshot(self._settings)

    def fresh(self) -> LiveSample | None:
        return self._cache.fresh(None)

    def current(self) -> LiveSample:
        """A sample at most MAX_AGE_SECONDS old (blocking: call it from a worker thread)."""
        return self._cache.get(None, self._collect)

    def _collect(self) -> LiveSample:
        sample = collect_sample(self._settings, self._previous or live_snapshot(self._settings))
        rows = sample_rows(sample)
        self._previous = counters_of(rows, sample)
        document = sample_document(rows)
        shown = [row for row in document.get("processes", []) if row["rank"] <= self._shown_processes]
        return LiveSample(document, encode_json({**document, "processes": shown}))
