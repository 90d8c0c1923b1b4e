"""Network: cumulative counters and link state per interface."""

from __future__ import annotations

import psutil

from config.settings import Settings
from scripts.monitoring.collectors.patterns import matches_any
from scripts.monitoring.sample import InterfaceReading, NetworkReading, NicCounters


def read_counters(settings: Settings) -> dict[str, NicCounters]:
    """Counters of every counted interface (nowrap=False: rates handle wrap across runs)."""
    return {
        name: NicCounters(raw.bytes_sent, raw.bytes_recv, raw.packets_sent, raw.packets_recv,
                          raw.errin, raw.errout, raw.dropin, raw.dropout)
        for name, raw in psutil.net_io_counters(pernic=True, nowrap=False).items()
        if not matches_any(name, settings.network_ignore_interfaces)
    }


def collect(settings: Settings) -> NetworkReading:
    counters = read_counters(settings)
    try:
        stats = psutil.net_if_stats()
    except OSError:
        stats = {}
    interfaces = []
    for name, nic_counters in sorted(counters.items()):
        link = stats.get(name)
        interfaces.append(InterfaceReading(
            name=name,
            counters=nic_counters,
            is_up=link.isup if link else None,
            speed_mbps=(link.speed or None) if link else None,
        ))
    return NetworkReading(interfaces=interfaces)
