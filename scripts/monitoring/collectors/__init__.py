"""The collector registry: one module per source, each `collect(settings)` returning plain data.

A collector that raises is recorded as failed with its error; the others still run. A collector that
returns a reading with `problems` (a vanished mount, an NVML error) succeeded in part and is recorded with
those problems as its error. Every collector's duration is recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from config.settings import COLLECTOR_NAMES, Settings
from scripts.monitoring.collectors import cpu, disk, gpu, memory, network, processes, sensors
from scripts.monitoring.sample import CollectorOutcome

COLLECTORS: dict[str, Callable[[Settings], Any]] = {
    "cpu": cpu.collect,
    "memory": memory.collect,
    "disk": disk.collect,
    "network": network.collect,
    "gpu": gpu.collect,
    "sensors": sensors.collect,
    "processes": processes.collect,
}
assert tuple(COLLECTORS) == COLLECTOR_NAMES, "config.settings.COLLECTOR_NAMES must list every collector"

log = logging.getLogger(__name__)


def run_collectors(settings: Settings, collectors: dict[str, Callable[[Settings], Any]] | None = None,
                   ) -> tuple[dict[str, Any], list[CollectorOutcome]]:
    """Run every enabled collector; returns readings by name (failed ones absent) and their outcomes."""
    readings: dict[str, Any] = {}
    outcomes: list[CollectorOutcome] = []
    for name, collect in (collectors or COLLECTORS).items():
        if name in settings.disabled_collectors:
            continue
        started = time.perf_counter()
        error = None
        try:
            readings[name] = reading = collect(settings)
            problems = getattr(reading, "problems", None)
            error = "; ".join(problems) if problems else None
        except Exception as exc:  # one collector must not take the others down
            error = f"{type(exc).__name__}: {exc}"
            log.warning("collector %s failed: %s", name, error)
        outcomes.append(CollectorOutcome(name, time.perf_counter() - started, error))
    return readings, outcomes
