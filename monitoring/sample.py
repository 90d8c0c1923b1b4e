"""One sample of a host: the collectors' readings (each collector's module defines its reading's type), how each
collector fared, and the counters the next sample's rates start from.

Containers that get filled in are dataclasses without generated __eq__: each generated method is compiled at
import, and a one-shot run from cron pays for every one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from monitoring.catalogue import ResourceKind
from monitoring.figures import Figures, Value

if TYPE_CHECKING:
    from monitoring.collectors.cpu import CpuReading
    from monitoring.collectors.disk import DiskReading, DisksReading
    from monitoring.collectors.gpu import GpusReading
    from monitoring.collectors.memory import MemoryReading
    from monitoring.collectors.network import NetworkReading
    from monitoring.collectors.processes import ProcessesReading
    from monitoring.collectors.sensors import SensorReading


class CollectorOutcome(NamedTuple):
    name: str
    duration_seconds: float
    error: str | None = None

    @property
    def success(self) -> bool:
        return self.error is None


@dataclass(eq=False)
class CounterSnapshot:
    """The cumulative counters rates are computed against: those of the previous stored sample, a live read
    0.25 s earlier (first run on a host), or all zeros at boot time (after a reboot: `zero_for_missing`).
    `counters` holds the counter metrics by name; `processes` each process's (create time, CPU seconds)."""

    taken_at: datetime
    boot_time: float | None
    counters: Figures = field(default_factory=Figures.of)
    processes: dict[int, tuple[float, float]] = field(default_factory=dict)
    zero_for_missing: bool = False

    @property
    def has_counters(self) -> bool:
        """False for a stored row without any (a seed platform row): rates need a live window then."""
        resources = (resource.values for items in self.counters.resources.values() for resource in items)
        return any(value is not None for values in (self.counters.machine, *resources) for value in values.values())

    def machine_counters(self, names: Iterable[str]) -> list[Value] | None:
        """The machine-wide counters `names`, or None when the first is unknown (zeros after a reboot)."""
        return self.counters_in(self.counters.machine, names)

    def resource_counters(self, kind: ResourceKind, attribute: str) -> dict[object, Mapping[str, Value]]:
        """Each resource's counters of `kind` by `attribute` (a device name, an interface, a core index)."""
        return self.counters.keyed(kind, attribute)

    def counters_in(self, values: Mapping[str, Value] | None, names: Iterable[str]) -> list[Value] | None:
        """`names` from one resource's (or the machine's) counters: None where the first is unknown, unless
        every counter counts from zero (after a reboot); a later one unknown reads as zero."""
        names = tuple(names)
        if values is None or values.get(names[0]) is None:
            return [0] * len(names) if self.zero_for_missing else None
        return [values.get(name) or 0 for name in names]


@dataclass(eq=False)
class Sample:
    timestamp: datetime
    hostname: str
    platform: str
    boot_time: float | None
    cpu: CpuReading | None = None
    memory: MemoryReading | None = None
    disks: DisksReading | None = None
    network: NetworkReading | None = None
    gpus: GpusReading | None = None
    sensors: list[SensorReading] | None = None
    processes: ProcessesReading | None = None
    collectors: list[CollectorOutcome] = field(default_factory=list)
    rate_interval_seconds: float | None = None
    system_disk: str = "/"

    @property
    def collection_seconds(self) -> float:
        return sum(outcome.duration_seconds for outcome in self.collectors)

    @property
    def system_disk_reading(self) -> DiskReading | None:
        return self.disks.mount(self.system_disk) if self.disks else None
