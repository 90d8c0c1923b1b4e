"""The coredotcloud agent's payloads (the first seed): `{"apikey", "category", "data"}` POSTed to its API_URL.

`info` carries the machine's static description (an object); `data`, every 30 s, a flat list read by position:
CPU %, memory total GB, memory used GB, memory %, disk total GB, disk used GB, disk %, network receive KB/s,
network send KB/s, CPU count, GPU count, then one % per CPU and, per GPU, its % and VRAM total and used in MB.
A payload without `category` (the seed's own examples omit it) is `data` when `data` is a list, `info` when it is
an object. Sizes are converted as the project counts them: GB = GiB, MB = MiB, KB/s = KiB/s; the network rates
cover the last second (the seed's "최근 1초간"), the disk is the root filesystem's. The payload has no time: a
sample is taken when the hub receives it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, NamedTuple

import msgspec

from fleet.seed_payload import (
    MAX_TEXT_CHARS,
    NO_CORE_TIMES,
    UNKNOWN_PLATFORM,
    Percent,
    SeedPayloadError,
    Size,
    Text,
    decode,
)
from monitoring.collectors.cpu import CpuReading
from monitoring.collectors.disk import DiskReading, DisksReading
from monitoring.collectors.gpu import GpuReading, GpusReading
from monitoring.collectors.memory import MemoryReading
from monitoring.collectors.network import NetworkReading, NicRates
from monitoring.sample import Sample
from monitoring.units import GIB

SOURCE = "coredotcloud"
INTERVAL_SECONDS = 30.0  # the agent's fixed period
ROOT_MOUNTPOINT = "/"
KIB = 1024
MAX_CPUS = 4096
MAX_GPUS = 64


class CoreDotCloudCpu(msgspec.Struct, kw_only=True):
    model: Text | None = None
    physical_cores: Annotated[int, msgspec.Meta(ge=0, le=MAX_CPUS)] | None = None
    logical_cores: Annotated[int, msgspec.Meta(ge=0, le=MAX_CPUS)] | None = None
    frequency_mhz: Size | None = None
    cpu_percent: Percent | None = None


class CoreDotCloudMemory(msgspec.Struct, kw_only=True):
    total_gb: Size | None = None
    available_gb: Size | None = None
    used_gb: Size | None = None
    usage_percent: Percent | None = None


class CoreDotCloudGpu(msgspec.Struct, kw_only=True):
    name: Text | None = None
    load_percent: Percent | None = None
    memory_total_mb: Size | None = None
    memory_used_mb: Size | None = None
    memory_free_mb: Size | None = None
    temperature: Annotated[float, msgspec.Meta(ge=-100, le=300)] | None = None


class CoreDotCloudInfo(msgspec.Struct, kw_only=True):
    """The machine's description; every part optional. Its `disk` and `network` (the seed shows them only as
    `[...]` and `{...}`) and any other field are accepted unread."""

    hostname: Text | None = None
    os: Text | None = None
    os_version: Text | None = None
    architecture: Text | None = None
    cpu: CoreDotCloudCpu | None = None
    memory: CoreDotCloudMemory | None = None
    gpu: Annotated[list[CoreDotCloudGpu], msgspec.Meta(max_length=MAX_GPUS)] | None = None


Values = Annotated[list[float], msgspec.Meta(max_length=11 + MAX_CPUS + 3 * MAX_GPUS)]


class CoreDotCloudPayload(msgspec.Struct, kw_only=True):
    """What the agent POSTs; `apikey` is the host key from `main.py hosts add NAME`."""

    apikey: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT_CHARS)]
    category: Literal["info", "data"] | None = None
    data: CoreDotCloudInfo | Values


class Push(NamedTuple):
    """A payload read: its key, and either the machine's description or one sample."""

    key: str
    info: CoreDotCloudInfo | None
    sample: Sample | None


class _Position(NamedTuple):
    label: str
    low: float
    high: float
    whole: bool = False

    def allowed(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        return f"{kind} from {self.low:g} to {self.high:g}"


_PERCENT = (0.0, 100.0)
_SIZE = (0.0, float(2**50))
_FIXED = (
    _Position("CPU %", *_PERCENT),
    _Position("memory total GB", *_SIZE),
    _Position("memory used GB", *_SIZE),
    _Position("memory %", *_PERCENT),
    _Position("disk total GB", *_SIZE),
    _Position("disk used GB", *_SIZE),
    _Position("disk %", *_PERCENT),
    _Position("network receive KB/s", *_SIZE),
    _Position("network send KB/s", *_SIZE),
    _Position("CPU count", 0, MAX_CPUS, whole=True),
    _Position("GPU count", 0, MAX_GPUS, whole=True),
)
_CPU_COUNT, _GPU_COUNT = 9, 10


def read_push(body: bytes, received_at: datetime) -> Push:
    """The payload in `body`; raises SeedPayloadError naming the first field the hub cannot take."""
    envelope = decode(body, CoreDotCloudPayload)
    if isinstance(envelope.data, CoreDotCloudInfo):
        if envelope.category == "data":
            raise SeedPayloadError("$.data is an object (an info payload) but $.category is 'data': expected a list")
        return Push(envelope.apikey, envelope.data, None)
    if envelope.category == "info":
        raise SeedPayloadError("$.data is a list (a data payload) but $.category is 'info': expected an object")
    return Push(envelope.apikey, None, data_sample(envelope.data, received_at))


def data_sample(values: list[float], received_at: datetime) -> Sample:
    """The sample a `data` list describes, taken at `received_at`."""
    if len(values) < len(_FIXED):
        raise SeedPayloadError(
            f"$.data has {len(values)} values: a data payload has at least {len(_FIXED)} "
            f"({', '.join(position.label for position in _FIXED)}), then one CPU % per CPU and 3 values per GPU"
        )
    fixed = [_checked(values, index, position) for index, position in enumerate(_FIXED)]
    cpu_count, gpu_count = int(fixed[_CPU_COUNT]), int(fixed[_GPU_COUNT])
    expected = len(_FIXED) + cpu_count + 3 * gpu_count
    if len(values) != expected:
        raise SeedPayloadError(
            f"$.data has {len(values)} values: with {cpu_count} CPUs ($.data[{_CPU_COUNT}]) and {gpu_count} GPUs "
            f"($.data[{_GPU_COUNT}]) it must have {len(_FIXED)} + {cpu_count} + 3 * {gpu_count} = {expected}"
        )
    cores = [_checked(values, len(_FIXED) + core, _Position(f"CPU {core} %", *_PERCENT)) for core in range(cpu_count)]
    gpus_at = len(_FIXED) + cpu_count
    gpus = [_gpu(values, gpus_at + 3 * gpu, gpu) for gpu in range(gpu_count)]
    (cpu_share, memory_total, memory_used, memory_share, disk_total, disk_used, disk_share) = fixed[:7]
    received_kib, sent_kib = fixed[7:9]
    return Sample(
        timestamp=received_at,
        hostname="",  # the hub stores the sample under the name the key was registered for
        platform=UNKNOWN_PLATFORM,
        boot_time=None,
        cpu=CpuReading(
            logical_count=cpu_count,
            physical_count=None,
            times=None,
            core_times=[NO_CORE_TIMES] * cpu_count,
            percent=cpu_share,
            core_percents=list(cores),
        ),
        memory=MemoryReading(
            total_bytes=round(memory_total * GIB),
            used_bytes=round(memory_used * GIB),
            available_bytes=None,
            percent=memory_share,
        ),
        disks=DisksReading(
            mounts=[
                DiskReading(
                    mountpoint=ROOT_MOUNTPOINT,
                    device="",
                    fstype="",
                    total_bytes=round(disk_total * GIB),
                    used_bytes=round(disk_used * GIB),
                    free_bytes=None,
                    percent=disk_share,
                )
            ],
            io_total=None,
        ),
        network=NetworkReading(
            interfaces=[],
            total_rates=NicRates(sent_bytes_per_second=sent_kib * KIB, recv_bytes_per_second=received_kib * KIB),
        ),
        gpus=GpusReading(devices=gpus),
        system_disk=ROOT_MOUNTPOINT,
    )


def _gpu(values: list[float], at: int, index: int) -> GpuReading:
    percent = _checked(values, at, _Position(f"GPU {index} %", *_PERCENT))
    total_mib = _checked(values, at + 1, _Position(f"GPU {index} VRAM total MB", *_SIZE))
    used_mib = _checked(values, at + 2, _Position(f"GPU {index} VRAM used MB", *_SIZE))
    return GpuReading(index=index, utilization_percent=percent, memory_total_mib=total_mib, memory_used_mib=used_mib)


def _checked(values: list[float], index: int, position: _Position) -> float:
    value = values[index]
    if not position.low <= value <= position.high or (position.whole and value % 1):
        raise SeedPayloadError(f"$.data[{index}] ({position.label}) is {value:g}: expected {position.allowed()}")
    return value
