"""One sample of a host: the collectors' readings (each collector's module defines its reading's type), how each
collector fared.

Containers that get filled in are dataclasses without generated __eq__: each generated method is compiled at
import, and a one-shot run from cron pays for every one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from monitoring.collectors.containers import ContainersReading
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
    containers: ContainersReading | None = None
    collectors: list[CollectorOutcome] = field(default_factory=list)
    rate_interval_seconds: float | None = None
    system_disk: str = "/"

    @property
    def collection_seconds(self) -> float:
        return sum(outcome.duration_seconds for outcome in self.collectors)

    @property
    def system_disk_reading(self) -> DiskReading | None:
        return self.disks.mount(self.system_disk) if self.disks else None
