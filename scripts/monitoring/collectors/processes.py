"""Processes: CPU seconds, memory and owner of each one; ranking happens once rates are known."""

from __future__ import annotations

import psutil

from config.settings import Settings
from scripts.monitoring.sample import ProcessCounters, ProcessesReading

_ATTRS = ["pid", "name", "username", "create_time", "cpu_times", "memory_info", "memory_percent"]


def read_table() -> list[ProcessCounters]:
    """Every visible process; fields the OS refuses (AccessDenied) are None, vanished processes skipped."""
    table = []
    for process in psutil.process_iter(_ATTRS, ad_value=None):
        info = process.info
        cpu_times = info["cpu_times"]
        memory_info = info["memory_info"]
        table.append(ProcessCounters(
            pid=info["pid"],
            name=info["name"],
            username=info["username"],
            create_time=info["create_time"] or 0.0,
            cpu_seconds=(cpu_times.user + cpu_times.system) if cpu_times else 0.0,
            memory_percent=info["memory_percent"],
            rss_bytes=memory_info.rss if memory_info else None,
        ))
    return table


def collect(settings: Settings) -> ProcessesReading:
    return ProcessesReading(table=read_table())
