"""Disks: usage of every real mounted filesystem and the I/O counters of the devices behind them."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import NamedTuple

import psutil

from monitoring.catalogue import ResourceKind
from monitoring.collectors import CollectorSettings, SampleView
from monitoring.collectors.patterns import matches_any
from monitoring.figures import Figures, ResourceFigures, Value, named_values
from monitoring.rates import CounterSnapshot, per_second
from monitoring.units import GIB

PRODUCES = (
    "disk_total_gb",
    "disk_used_gb",
    "disk_percent",
    "disk_total_bytes",
    "disk_used_bytes",
    "disk_free_bytes",
    "disk_read_bytes_total",
    "disk_write_bytes_total",
    "disk_read_count_total",
    "disk_write_count_total",
    "disk_read_bytes_per_second",
    "disk_write_bytes_per_second",
    "disk_read_ops_per_second",
    "disk_write_ops_per_second",
    "device_read_bytes_total",
    "device_write_bytes_total",
    "device_read_count_total",
    "device_write_count_total",
    "device_read_bytes_per_second",
    "device_write_bytes_per_second",
    "device_read_ops_per_second",
    "device_write_ops_per_second",
)
# IoCounters' and IoRates' fields as the catalogue names them for every device together and for a mount's device.
_MACHINE_COUNTERS = (
    "disk_read_bytes_total",
    "disk_write_bytes_total",
    "disk_read_count_total",
    "disk_write_count_total",
)
_MACHINE_RATES = (
    "disk_read_bytes_per_second",
    "disk_write_bytes_per_second",
    "disk_read_ops_per_second",
    "disk_write_ops_per_second",
)
_DEVICE_COUNTERS = (
    "device_read_bytes_total",
    "device_write_bytes_total",
    "device_read_count_total",
    "device_write_count_total",
)
_DEVICE_RATES = (
    "device_read_bytes_per_second",
    "device_write_bytes_per_second",
    "device_read_ops_per_second",
    "device_write_ops_per_second",
)
RATE_COUNTERS = (*_MACHINE_COUNTERS, *_DEVICE_COUNTERS)

log = logging.getLogger(__name__)


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
    free_bytes: int | None  # None where the sender does not say (a seed agent's total and used)
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


def to_io_counters(raw: object) -> IoCounters:
    return IoCounters(raw.read_bytes, raw.write_bytes, raw.read_count, raw.write_count)  # type: ignore[attr-defined]


def read_io() -> tuple[IoCounters | None, dict[str, IoCounters]]:
    """Machine-wide counters and per-device counters, as psutil counts them: whole devices, not partitions,
    but device-mapper, md and loop devices count as devices too, so I/O through LVM or RAID is counted at both
    levels in the machine-wide figures.

    nowrap=False: wrap-around across runs is handled by monitoring.rates, not psutil's in-process cache.
    """
    total = psutil.disk_io_counters(perdisk=False, nowrap=False)
    per_device = psutil.disk_io_counters(perdisk=True, nowrap=False) or {}
    return (to_io_counters(total) if total else None), {
        name: to_io_counters(counters) for name, counters in per_device.items()
    }


def collect(settings: CollectorSettings) -> DisksReading:
    io_total, per_device = read_io()
    reading = DisksReading(mounts=[], io_total=io_total)
    seen_devices: set[str] = set()
    for partition in psutil.disk_partitions(all=False):
        if not _is_real(partition, settings) or partition.device in seen_devices:
            continue
        try:
            usage = psutil.disk_usage(partition.mountpoint)
        except OSError as error:  # vanished or unreadable mount: report it, keep the others
            problem = f"{partition.mountpoint}: {error.strerror or error}"
            log.warning("disk collector: %s", problem)
            reading.problems.append(problem)
            continue
        seen_devices.add(partition.device)
        io_device = _io_device(partition.device, per_device)
        reading.mounts.append(
            DiskReading(
                mountpoint=partition.mountpoint,
                device=partition.device,
                fstype=partition.fstype,
                total_bytes=usage.total,
                used_bytes=usage.used,
                free_bytes=usage.free,
                percent=float(usage.percent),
                io_device=io_device,
                io=per_device.get(io_device) if io_device else None,
            )
        )
    if reading.mount(settings.system_disk) is None:
        _add_system_disk(reading, settings.system_disk, per_device)
    return reading


def _add_system_disk(reading: DisksReading, mountpoint: str, per_device: dict[str, IoCounters]) -> None:
    """The system disk is measured even when its filesystem is filtered out (overlay `/` in a container),
    as the seed's disk_usage('/') was."""
    try:
        usage = psutil.disk_usage(mountpoint)
    except OSError:
        return  # not mounted here; the monitor warns that the disk_* columns stay empty
    partition = next((part for part in psutil.disk_partitions(all=True) if part.mountpoint == mountpoint), None)
    device = partition.device if partition else ""
    io_device = _io_device(device, per_device) if device else None
    system = DiskReading(
        mountpoint=mountpoint,
        device=device,
        fstype=partition.fstype if partition else "",
        total_bytes=usage.total,
        used_bytes=usage.used,
        free_bytes=usage.free,
        percent=float(usage.percent),
        io_device=io_device,
        io=per_device.get(io_device) if io_device else None,
    )
    reading.mounts = [system, *reading.mounts]


def _is_real(partition: object, settings: CollectorSettings) -> bool:
    fstype = partition.fstype  # type: ignore[attr-defined]
    mountpoint = partition.mountpoint  # type: ignore[attr-defined]
    if not fstype or fstype in settings.disk_ignore_fstypes or "cdrom" in partition.opts:  # type: ignore[attr-defined]
        return False
    if matches_any(mountpoint, settings.disk_ignore_mounts):
        return False
    return os.path.isdir(mountpoint)  # bind-mounted files (/etc/hosts in containers) are not disks


def _io_device(device: str, per_device: dict[str, IoCounters]) -> str | None:
    """The I/O counter name of a mounted device (/dev/mapper/vg-root -> dm-0)."""
    for candidate in (os.path.basename(os.path.realpath(device)), os.path.basename(device)):
        if candidate in per_device:
            return candidate
    return None


def apply_rates(reading: DisksReading, previous: CounterSnapshot, elapsed_seconds: float) -> None:
    """Read and write rates of every device together and of each mount's device since `previous`."""
    before = previous.machine_counters(_MACHINE_COUNTERS)
    if reading.io_total is not None and before is not None:
        reading.io_total_rates = IoRates(*per_second(before, reading.io_total, elapsed_seconds))
    devices = previous.resource_counters(ResourceKind.MOUNT, "io_device")
    for disk in reading.mounts:
        device = previous.counters_in(devices.get(disk.io_device) if disk.io_device else None, _DEVICE_COUNTERS)
        if disk.io is not None and device is not None:
            disk.rates = IoRates(*per_second(device, disk.io, elapsed_seconds))


def figures(reading: DisksReading, sample: SampleView) -> Figures:
    """Each mount, and for the machine the system disk's size and usage (in GiB, as the seed's disk_* columns
    hold them) and the I/O of every device together."""
    machine: dict[str, Value] = {
        **named_values(_MACHINE_COUNTERS, reading.io_total),
        **named_values(_MACHINE_RATES, reading.io_total_rates),
    }
    attributes = {}
    system = reading.mount(sample.system_disk)
    if system is not None:
        attributes["disk_mountpoint"] = system.mountpoint
        machine |= {
            "disk_total_gb": system.total_bytes / GIB,
            "disk_used_gb": system.used_bytes / GIB,
            "disk_percent": system.percent,
        }
    mounts = [
        ResourceFigures(
            ResourceKind.MOUNT,
            {"mountpoint": disk.mountpoint, "device": disk.device, "fstype": disk.fstype, "io_device": disk.io_device},
            {
                "disk_total_bytes": disk.total_bytes,
                "disk_used_bytes": disk.used_bytes,
                "disk_free_bytes": disk.free_bytes,
                "disk_percent": disk.percent,
                **named_values(_DEVICE_COUNTERS, disk.io),
                **named_values(_DEVICE_RATES, disk.rates),
            },
        )
        for disk in reading.mounts
    ]
    return Figures.of(machine, mounts, attributes, ResourceKind.MOUNT)
