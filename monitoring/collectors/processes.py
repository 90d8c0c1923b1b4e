"""Processes: CPU seconds and memory of each one for ranking; names and owners of the top ones.

The top lists are details of a sample (system_metric_processes), not catalogue metrics: PRODUCES is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import psutil

from monitoring.collectors import CollectorSettings, SampleView
from monitoring.figures import Figures

PRODUCES: tuple[str, ...] = ()
_ATTRS = ["pid", "create_time", "cpu_times", "memory_info"]
# psutil derives a process's create_time from the whole-second boot time, so it can be off by up to 1 s.
CREATE_TIME_TOLERANCE_SECONDS = 1.0


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


def read_table() -> list[ProcessCounters]:
    """Every visible process; fields the OS refuses (AccessDenied) are None, vanished processes skipped."""
    total_bytes = psutil.virtual_memory().total
    table = []
    for process in psutil.process_iter(_ATTRS, ad_value=None):
        info = process.info
        cpu_times = info["cpu_times"]
        rss_bytes = info["memory_info"].rss if info["memory_info"] else None
        table.append(
            ProcessCounters(
                pid=info["pid"],
                create_time=info["create_time"] or 0.0,
                cpu_seconds=(cpu_times.user + cpu_times.system) if cpu_times else 0.0,
                memory_percent=None if rss_bytes is None else 100.0 * rss_bytes / total_bytes,
                rss_bytes=rss_bytes,
            )
        )
    return table


def collect(settings: CollectorSettings) -> ProcessesReading:
    return ProcessesReading(table=read_table())


def rank(
    reading: ProcessesReading,
    previous: dict[int, tuple[float, float]],
    taken_at: datetime,
    elapsed_seconds: float | None,
    top: int,
) -> None:
    """Top processes by CPU used since the previous sample (a process started since then counts all its
    CPU time) and by resident memory; `previous` is each process's (create time, CPU seconds) then."""
    started_after = taken_at.timestamp() - (elapsed_seconds or 0.0) - CREATE_TIME_TOLERANCE_SECONDS
    infos = []
    for proc in reading.table:
        if proc.pid == 0:  # Windows' System Idle Process counts idle time as its own
            continue
        percent = None
        if elapsed_seconds:
            known = previous.get(proc.pid)
            if known is not None and abs(known[0] - proc.create_time) < CREATE_TIME_TOLERANCE_SECONDS:
                used: float | None = max(proc.cpu_seconds - known[1], 0.0)
            elif previous or proc.create_time >= started_after:  # new since the previous sample (or PID reused)
                used = proc.cpu_seconds
            else:  # no baseline and running before the previous sample: no honest figure
                used = None
            percent = None if used is None else round(100.0 * used / elapsed_seconds, 2)
        infos.append(ProcessInfo(proc.pid, None, None, percent, proc.memory_percent, proc.rss_bytes))
    reading.top_cpu = sorted(
        (info for info in infos if info.cpu_percent is not None), key=lambda info: info.cpu_percent or 0.0, reverse=True
    )[:top]
    reading.top_memory = sorted(
        (info for info in infos if info.rss_bytes is not None), key=lambda info: info.rss_bytes or 0, reverse=True
    )[:top]


def name_top_processes(reading: ProcessesReading) -> None:
    """Names and owners of the processes in the top lists, each looked up once."""
    known: dict[int, tuple[str | None, str | None]] = {}
    reading.top_cpu = with_names(reading.top_cpu, known)
    reading.top_memory = with_names(reading.top_memory, known)


def counters(reading: ProcessesReading) -> dict[int, tuple[float, float]]:
    """Each process's (create time, CPU seconds): the next sample's baseline."""
    return {row.pid: (row.create_time, row.cpu_seconds) for row in reading.table}


def figures(reading: ProcessesReading, sample: SampleView) -> Figures:
    return Figures.of()


def with_names(infos: list[ProcessInfo], known: dict[int, tuple[str | None, str | None]]) -> list[ProcessInfo]:
    """The same processes with name and owner filled in (None where the process is gone or hidden);
    `known` caches lookups across the top lists."""
    named = []
    for info in infos:
        if info.pid not in known:
            known[info.pid] = _name_and_owner(info.pid)
        name, owner = known[info.pid]
        named.append(info._replace(name=name, username=owner))
    return named


def _name_and_owner(pid: int) -> tuple[str | None, str | None]:
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            name = process.name()
            try:
                owner = process.username()
            except (psutil.AccessDenied, KeyError):  # KeyError: a uid with no passwd entry
                owner = None
        return name, owner
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None, None
