"""The collectors: one module per source. Each has `collect(settings)`, which reads its source into a typed
reading and never sleeps, `figures(reading, sample)`, which names the reading's values as the catalogue does, and
PRODUCES, the catalogue metrics it hands over; those with counters also have `apply_rates(reading, previous,
elapsed_seconds)`. monitoring.collectors.registry runs them.

This module stays light (no psutil): config checks MONITOR_DISABLED_COLLECTORS against COLLECTOR_NAMES.
"""

from __future__ import annotations

from typing import Protocol

COLLECTOR_NAMES = ("cpu", "memory", "disk", "network", "gpu", "sensors", "processes", "containers")


class CollectorSettings(Protocol):
    """The settings collectors read (config.settings.Settings has them)."""

    @property
    def system_disk(self) -> str: ...

    @property
    def disk_ignore_fstypes(self) -> frozenset[str]: ...

    @property
    def disk_ignore_mounts(self) -> tuple[str, ...]: ...

    @property
    def network_ignore_interfaces(self) -> tuple[str, ...]: ...

    @property
    def container_engine_socket(self) -> str | None: ...

    @property
    def container_restart_window_seconds(self) -> float: ...


class SampleView(Protocol):
    """What a collector's figures() reads of the sample besides its own reading (monitoring.sample.Sample)."""

    @property
    def system_disk(self) -> str: ...
