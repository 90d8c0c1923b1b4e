"""The counters the next sample's rates start from: those of a sample just taken, or read live for the first
run on a host (storage.metrics_store reads a stored sample's back)."""

from __future__ import annotations

from monitoring.collectors import containers, processes
from monitoring.collectors.registry import MODULES, RATE_COUNTERS, MonitorSettings, figures_of, fill_sample, new_sample
from monitoring.figures import Figures
from monitoring.rates import CounterSnapshot
from monitoring.sample import Sample

# The collectors whose readings hold counters (processes: each one's CPU seconds; containers: each one's CPU
# time and I/O bytes).
_WITH_COUNTERS = ("cpu", "disk", "network", "processes", "containers")
_RATE_COUNTERS = frozenset(RATE_COUNTERS)


def snapshot_of(sample: Sample, figures: Figures | None = None) -> CounterSnapshot:
    """The counters of `sample` (whose figures_of() the caller may have already), as the next sample of its
    host reads them back."""
    return CounterSnapshot(
        taken_at=sample.timestamp,
        boot_time=sample.boot_time,
        counters=counters_only(figures_of(sample) if figures is None else figures),
        processes=processes.counters(sample.processes) if sample.processes is not None else {},
        containers=containers.counters(sample.containers) if sample.containers is not None else {},
        listed_containers=containers.listed(sample.containers) if sample.containers is not None else {},
    )


def live_snapshot(settings: MonitorSettings) -> CounterSnapshot:
    """Counters read now, for the first run on a host (the caller waits a short window before collecting)."""
    sample = new_sample(settings)
    fill_sample(
        sample,
        {name: MODULES[name].collect(settings) for name in _WITH_COUNTERS if name not in settings.disabled_collectors},
    )
    return snapshot_of(sample)


def counters_only(figures: Figures) -> Figures:
    """The figures rates start from, with the identities of the resources that have them."""
    resources = [
        resource._replace(values=counters)
        for items in figures.resources.values()
        for resource in items
        if (counters := {name: value for name, value in resource.values.items() if name in _RATE_COUNTERS})
    ]
    return Figures.of({name: value for name, value in figures.machine.items() if name in _RATE_COUNTERS}, resources)
