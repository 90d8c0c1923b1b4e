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
from monitoring.collectors.registry import collect_sample, figures_of
from monitoring.rates import CounterSnapshot
from monitoring.snapshot import live_snapshot, snapshot_of
from storage.metrics_queries import detail_key
from storage.sample_rows import SampleRows, sample_rows

MAX_AGE_SECONDS = 1.0
TOP_PROCESSES = 100  # /api/v1/metrics/processes serves up to this many per ranking


class LiveSample(NamedTuple):
    document: dict[str, Any]  # system_metrics columns and detail lists as stored; processes: the top 100 of each
    body: bytes  # the JSON of /monitoring/metrics/current: processes cut to MONITOR_TOP_PROCESSES


def sample_document(rows: SampleRows) -> dict[str, Any]:
    """A sample in the shape of a stored one: system_metrics columns, detail rows by table name."""
    document: dict[str, Any] = {"id": None, **rows.metric}
    for table_name, values in rows.details.items():
        document[detail_key(table_name)] = values
    return document


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
        figures = figures_of(sample)
        rows = sample_rows(sample, figures)
        self._previous = snapshot_of(sample, figures)
        document = sample_document(rows)
        shown = [row for row in document.get("processes", []) if row["rank"] <= self._shown_processes]
        return LiveSample(document, encode_json({**document, "processes": shown}))
