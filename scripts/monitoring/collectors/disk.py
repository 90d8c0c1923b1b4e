"""Disks: usage of every real mounted filesystem and the I/O counters of the devices behind them."""

from __future__ import annotations

import logging
import os

import psutil

from config.settings import Settings
from scripts.monitoring.collectors.patterns import matches_any
from scripts.monitoring.sample import DiskReading, DisksReading, IoCounters

log = logging.getLogger(__name__)


def to_io_counters(raw: object) -> IoCounters:
    return IoCounters(raw.read_bytes, raw.write_bytes, raw.read_count, raw.write_count)  # type: ignore[attr-defined]


def read_io() -> tuple[IoCounters | None, dict[str, IoCounters]]:
    """Machine-wide counters and per-device counters, as psutil counts them: whole devices, not partitions,
    but device-mapper, md and loop devices count as devices too, so I/O through LVM or RAID is counted at both
    levels in the machine-wide figures.

    nowrap=False: wrap-around across runs is handled by scripts.monitoring.rates, not psutil's in-process cache.
    """
    total = psutil.disk_io_counters(perdisk=False, nowrap=False)
    per_device = psutil.disk_io_counters(perdisk=True, nowrap=False) or {}
    return (to_io_counters(total) if total else None), {
        name: to_io_counters(counters) for name, counters in per_device.items()
    }


def collect(settings: Settings) -> DisksReading:
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
        reading.mounts.append(DiskReading(
            mountpoint=partition.mountpoint,
            device=partition.device,
            fstype=partition.fstype,
            total_bytes=usage.total,
            used_bytes=usage.used,
            free_bytes=usage.free,
            percent=float(usage.percent),
            io_device=io_device,
            io=per_device.get(io_device) if io_device else None,
        ))
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
    reading.mounts.insert(0, DiskReading(
        mountpoint=mountpoint, device=device, fstype=partition.fstype if partition else "",
        total_bytes=usage.total, used_bytes=usage.used, free_bytes=usage.free, percent=float(usage.percent),
        io_device=io_device, io=per_device.get(io_device) if io_device else None,
    ))


def _is_real(partition: object, settings: Settings) -> bool:
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
