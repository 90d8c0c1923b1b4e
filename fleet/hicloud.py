"""The HiCloud agent's payload (the second seed): `POST /monitor_info` with the server's CPU and memory and each
Docker container's figures.

The agent sends no key and no time zone: the host key travels in the URL the user configures
(`.../monitor_info?key=ahk_...`), and `ser_get_datetime` ("YYYY-MM-DD HH:MM:SS", the agent's local clock) is read
as UTC unless that URL also names the agent's zone (`&tz=Asia/Seoul`). Memory is in MB (MiB, as the project
counts them). `agent_id` is checked and not stored: the host is the one the key was registered for. Each of
`container_stats` becomes a container of the sample (system_metric_containers; the `container` view gives them
back with the seed's column names): its `con_cpu_percent`, the share of the whole host the agent computes, is
the container's CPU as a share of the host, and times the server's CPU count its cores.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from fleet.seed_payload import UNKNOWN_PLATFORM, Percent, SeedPayloadError, Size, Text, decode
from monitoring.collectors.containers import ContainerReading, ContainersReading
from monitoring.collectors.cpu import CpuReading
from monitoring.collectors.memory import MemoryReading
from monitoring.sample import Sample
from monitoring.units import MIB

SOURCE = "hicloud"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_CONTAINERS = 1000
MAX_CPUS = 4096

LocalTime = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")]


class HiCloudContainerStats(msgspec.Struct, kw_only=True):
    engine_type: Text | None = None
    agent_id: Text | None = None
    node_name: Text | None = None
    container_name: Text
    status: Text | None = None
    # The seed's agent computes a share of the whole host; values above 100 (another agent's per-core figure)
    # are taken in and dropped as impossible, counted in the sample's dropped values.
    con_cpu_percent: Annotated[float, msgspec.Meta(ge=0, le=100 * MAX_CPUS)] | None = None
    con_memory_usage: Size | None = None  # MB
    con_memory_percent: Percent | None = None
    con_get_datetime: LocalTime | None = None


class HiCloudMonitorInfo(msgspec.Struct, kw_only=True):
    engine_type: Text | None = None
    agent_id: Text | None = None
    ser_cpu_count: Annotated[int, msgspec.Meta(ge=1, le=MAX_CPUS)]
    ser_cpu_percent: Percent
    ser_memory_total: Size  # MB
    ser_memory_used: Size  # MB
    ser_memory_percent: Percent
    ser_get_datetime: LocalTime
    container_stats: Annotated[list[HiCloudContainerStats], msgspec.Meta(max_length=MAX_CONTAINERS)] = []


def agent_zone(name: str | None) -> tzinfo:
    """The zone the agent's clock shows (`tz` in its URL), UTC without one."""
    if not name:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SeedPayloadError(
            f"tz={name[:60]!r} is not a known time zone: expected an IANA name such as Asia/Seoul or UTC"
        ) from None


def read_monitor_info(body: bytes, zone: tzinfo) -> tuple[HiCloudMonitorInfo, Sample]:
    """The payload in `body` and the sample it describes; raises SeedPayloadError naming the first bad field."""
    info = decode(body, HiCloudMonitorInfo)
    collected_at = _local_time("$.ser_get_datetime", info.ser_get_datetime, zone)
    for index, container in enumerate(info.container_stats):
        if container.con_get_datetime is not None:
            _local_time(f"$.container_stats[{index}].con_get_datetime", container.con_get_datetime, zone)
    sample = Sample(
        timestamp=collected_at,
        hostname="",  # the hub stores the sample under the name the key was registered for
        platform=UNKNOWN_PLATFORM,
        boot_time=None,
        cpu=CpuReading(
            logical_count=info.ser_cpu_count,
            physical_count=None,
            times=None,
            core_times=[],
            percent=info.ser_cpu_percent,
        ),
        memory=MemoryReading(
            total_bytes=round(info.ser_memory_total * MIB),
            used_bytes=round(info.ser_memory_used * MIB),
            available_bytes=None,
            percent=info.ser_memory_percent,
        ),
        containers=_containers(info),
    )
    return info, sample


def _containers(info: HiCloudMonitorInfo) -> ContainersReading:
    reading = ContainersReading(engine=info.engine_type)
    for stats in info.container_stats:
        host_percent = stats.con_cpu_percent
        if host_percent is not None and host_percent > 100:
            reading.dropped_values += 1
            host_percent = None
        reading.containers.append(
            ContainerReading(
                id=stats.container_name,  # the seed's agent sends no id: the name stands for it
                name=stats.container_name,
                image="",
                state=stats.status or "unknown",
                engine=stats.engine_type or info.engine_type,
                cpu_host_percent=host_percent,
                cpu_cores=None if host_percent is None else round(host_percent / 100 * info.ser_cpu_count, 4),
                memory_used_bytes=None if stats.con_memory_usage is None else round(stats.con_memory_usage * MIB),
                memory_percent=stats.con_memory_percent,
            )
        )
    return reading


def _local_time(field: str, text: str, zone: tzinfo) -> datetime:
    """The agent's wall-clock time in `zone`, as UTC."""
    try:
        local = datetime.strptime(text, DATETIME_FORMAT)
    except ValueError:
        raise SeedPayloadError(f"{field} is {text!r}: expected a date and time as YYYY-MM-DD HH:MM:SS") from None
    return local.replace(tzinfo=zone).astimezone(timezone.utc)
