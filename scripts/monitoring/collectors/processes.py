"""Processes: CPU seconds and memory of each one for ranking; names and owners of the top ones."""

import psutil

from config.settings import Settings
from scripts.monitoring.sample import ProcessCounters, ProcessesReading, ProcessInfo

_ATTRS = ["pid", "create_time", "cpu_times", "memory_info"]


def read_table() -> list[ProcessCounters]:
    """Every visible process; fields the OS refuses (AccessDenied) are None, vanished processes skipped."""
    total_bytes = psutil.virtual_memory().total
    table = []
    for process in psutil.process_iter(_ATTRS, ad_value=None):
        info = process.info
        cpu_times = info["cpu_times"]
        rss_bytes = info["memory_info"].rss if info["memory_info"] else None
        table.append(ProcessCounters(
            pid=info["pid"],
            create_time=info["create_time"] or 0.0,
            cpu_seconds=(cpu_times.user + cpu_times.system) if cpu_times else 0.0,
            memory_percent=None if rss_bytes is None else 100.0 * rss_bytes / total_bytes,
            rss_bytes=rss_bytes,
        ))
    return table


def collect(settings: Settings) -> ProcessesReading:
    return ProcessesReading(table=read_table())


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
