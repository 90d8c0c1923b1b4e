"""Plain data of one sample: what collectors read (cumulative counters included) and the rates derived later.

Immutable values are NamedTuples and containers that get filled in are dataclasses without generated __eq__:
each generated method is compiled at import, and a one-shot run from cron pays for every one.

Units are in the names. Fields ending in `_total` are counters as the OS reports them; rates are filled in
by scripts.monitoring.rates against the previous sample of the same host.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

MIB = 2**20
GIB = 2**30


class CpuTimes(NamedTuple):
    """Cumulative CPU seconds since boot: busy (everything but idle and iowait) and all."""

    busy_seconds: float
    total_seconds: float


@dataclass(eq=False)
class CpuReading:
    logical_count: int
    physical_count: int | None
    times: CpuTimes
    core_times: list[CpuTimes]
    load_1m: float | None = None
    load_5m: float | None = None
    load_15m: float | None = None
    frequency_mhz: float | None = None
    percent: float | None = None
    core_percents: list[float | None] = field(default_factory=list)

    @property
    def load_per_core(self) -> float | None:
        return None if self.load_5m is None else self.load_5m / max(self.logical_count, 1)


class MemoryReading(NamedTuple):
    total_bytes: int
    used_bytes: int
    available_bytes: int
    percent: float
    swap_total_bytes: int
    swap_used_bytes: int
    swap_percent: float


class IoCounters(NamedTuple):
    read_bytes: int
    write_bytes: int
    read_count: int
    write_count: int


class IoRates(NamedTuple):
    read_bytes_per_second: float
    write_bytes_per_second: float
    read_ops_per_second: float
    write_ops_per_second: float


@dataclass(eq=False)
class DiskReading:
    mountpoint: str
    device: str
    fstype: str
    total_bytes: int
    used_bytes: int
    free_bytes: int
    percent: float
    io_device: str | None = None
    io: IoCounters | None = None
    rates: IoRates | None = None


@dataclass(eq=False)
class DisksReading:
    mounts: list[DiskReading]
    io_total: IoCounters | None
    io_total_rates: IoRates | None = None
    problems: list[str] = field(default_factory=list)

    def mount(self, mountpoint: str) -> DiskReading | None:
        return next((disk for disk in self.mounts if disk.mountpoint == mountpoint), None)


class NicCounters(NamedTuple):
    bytes_sent: int
    bytes_recv: int
    packets_sent: int
    packets_recv: int
    errin: int
    errout: int
    dropin: int
    dropout: int


class NicRates(NamedTuple):
    sent_bytes_per_second: float
    recv_bytes_per_second: float
    packets_sent_per_second: float
    packets_recv_per_second: float
    errors_in_per_second: float
    errors_out_per_second: float
    drops_in_per_second: float
    drops_out_per_second: float


@dataclass(eq=False)
class InterfaceReading:
    name: str
    counters: NicCounters
    is_up: bool | None = None
    speed_mbps: int | None = None
    rates: NicRates | None = None


@dataclass(eq=False)
class NetworkReading:
    interfaces: list[InterfaceReading]
    total_rates: NicRates | None = None

    @property
    def sent_mb(self) -> float:
        """MiB sent since boot over the counted interfaces (the seed's network_sent_mb)."""
        return sum(nic.counters.bytes_sent for nic in self.interfaces) / MIB

    @property
    def recv_mb(self) -> float:
        return sum(nic.counters.bytes_recv for nic in self.interfaces) / MIB


class GpuProcess(NamedTuple):
    pid: int
    name: str | None
    used_memory_mib: float | None


@dataclass(eq=False)
class GpuReading:
    index: int
    name: str | None = None
    uuid: str | None = None
    utilization_percent: float | None = None
    memory_utilization_percent: float | None = None
    memory_total_mib: float | None = None
    memory_used_mib: float | None = None
    temperature_celsius: float | None = None
    power_draw_watts: float | None = None
    power_limit_watts: float | None = None
    fan_percent: float | None = None
    processes: list[GpuProcess] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def memory_percent(self) -> float | None:
        if self.memory_total_mib and self.memory_used_mib is not None:
            return 100.0 * self.memory_used_mib / self.memory_total_mib
        return None


@dataclass(eq=False)
class GpusReading:
    """Every NVIDIA GPU NVML sees; empty without a driver. `problems` holds NVML errors worth recording."""

    devices: list[GpuReading] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class SensorReading(NamedTuple):
    chip: str
    label: str | None
    current_celsius: float | None
    high_celsius: float | None
    critical_celsius: float | None


class ProcessCounters(NamedTuple):
    """One process as read for ranking; cpu_seconds is cumulative user+system time. Names and owners are
    looked up afterwards for the few processes that make the top lists (a user lookup per process is costly)."""

    pid: int
    create_time: float
    cpu_seconds: float
    memory_percent: float | None
    rss_bytes: int | None


class ProcessInfo(NamedTuple):
    pid: int
    name: str | None
    username: str | None
    cpu_percent: float | None
    memory_percent: float | None
    rss_bytes: int | None


@dataclass(eq=False)
class ProcessesReading:
    table: list[ProcessCounters]
    top_cpu: list[ProcessInfo] = field(default_factory=list)
    top_memory: list[ProcessInfo] = field(default_factory=list)


class CollectorOutcome(NamedTuple):
    name: str
    duration_seconds: float
    error: str | None = None

    @property
    def success(self) -> bool:
        return self.error is None


@dataclass(eq=False)
class CounterSnapshot:
    """The cumulative counters rates are computed against: the previous stored sample, a live read 0.25 s
    earlier (first run on a host), or all zeros at boot time (after a reboot)."""

    taken_at: datetime
    boot_time: float | None
    cpu: CpuTimes | None = None
    cores: list[CpuTimes] = field(default_factory=list)
    disk_total: IoCounters | None = None
    disks: dict[str, IoCounters] = field(default_factory=dict)
    nics: dict[str, NicCounters] = field(default_factory=dict)
    processes: dict[int, tuple[float, float]] = field(default_factory=dict)
    zero_for_missing: bool = False

    @property
    def has_counters(self) -> bool:
        """False for a stored row without any (a seed platform row): rates need a live window then."""
        return self.cpu is not None or self.disk_total is not None or bool(self.nics)


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
