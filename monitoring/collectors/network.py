"""Network: cumulative counters and link state per interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import psutil

from monitoring.catalogue import ResourceKind
from monitoring.collectors import CollectorSettings, SampleView
from monitoring.collectors.patterns import matches_any
from monitoring.figures import Figures, ResourceFigures, Value, named_values
from monitoring.rates import CounterSnapshot, per_second
from monitoring.units import MIB

PRODUCES = (
    "network_sent_mb",
    "network_recv_mb",
    "network_recv_bytes_per_second",
    "network_sent_bytes_per_second",
    "network_errors_per_second",
    "network_drops_per_second",
    "network_up",
    "network_speed_mbps",
    "network_bytes_sent_total",
    "network_bytes_recv_total",
    "network_packets_sent_total",
    "network_packets_recv_total",
    "network_errors_in_total",
    "network_errors_out_total",
    "network_drops_in_total",
    "network_drops_out_total",
    "network_packets_sent_per_second",
    "network_packets_recv_per_second",
    "network_errors_in_per_second",
    "network_errors_out_per_second",
    "network_drops_in_per_second",
    "network_drops_out_per_second",
)
# NicCounters' and NicRates' fields as the catalogue names them.
_COUNTERS = (
    "network_bytes_sent_total",
    "network_bytes_recv_total",
    "network_packets_sent_total",
    "network_packets_recv_total",
    "network_errors_in_total",
    "network_errors_out_total",
    "network_drops_in_total",
    "network_drops_out_total",
)
_RATES = (
    "network_sent_bytes_per_second",
    "network_recv_bytes_per_second",
    "network_packets_sent_per_second",
    "network_packets_recv_per_second",
    "network_errors_in_per_second",
    "network_errors_out_per_second",
    "network_drops_in_per_second",
    "network_drops_out_per_second",
)
RATE_COUNTERS = _COUNTERS
# The figures the machine has of its own: the sums of these over the interfaces.
_TOTALLED = (
    "network_sent_bytes_per_second",
    "network_recv_bytes_per_second",
    "network_packets_sent_per_second",
    "network_packets_recv_per_second",
    "network_errors_per_second",
    "network_drops_per_second",
)


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
    """Per-second rates; None where the sender measures only bytes (the seeds' agents)."""

    sent_bytes_per_second: float
    recv_bytes_per_second: float
    packets_sent_per_second: float | None = None
    packets_recv_per_second: float | None = None
    errors_in_per_second: float | None = None
    errors_out_per_second: float | None = None
    drops_in_per_second: float | None = None
    drops_out_per_second: float | None = None


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


def read_counters(settings: CollectorSettings) -> dict[str, NicCounters]:
    """Counters of every counted interface (nowrap=False: rates handle wrap across runs)."""
    return {
        name: NicCounters(
            raw.bytes_sent,
            raw.bytes_recv,
            raw.packets_sent,
            raw.packets_recv,
            raw.errin,
            raw.errout,
            raw.dropin,
            raw.dropout,
        )
        for name, raw in psutil.net_io_counters(pernic=True, nowrap=False).items()
        if not matches_any(name, settings.network_ignore_interfaces)
    }


def collect(settings: CollectorSettings) -> NetworkReading:
    counters = read_counters(settings)
    try:
        stats = psutil.net_if_stats()
    except OSError:
        stats = {}
    interfaces = []
    for name, nic_counters in sorted(counters.items()):
        link = stats.get(name)
        interfaces.append(
            InterfaceReading(
                name=name,
                counters=nic_counters,
                is_up=link.isup if link else None,
                speed_mbps=(link.speed or None) if link else None,
            )
        )
    return NetworkReading(interfaces=interfaces)


def apply_rates(reading: NetworkReading, previous: CounterSnapshot, elapsed_seconds: float) -> None:
    """Each interface's rates since `previous` (none for one that has no previous reading) and their sum."""
    before = previous.resource_counters(ResourceKind.INTERFACE, "interface")
    for nic in reading.interfaces:
        counters = previous.counters_in(before.get(nic.name), _COUNTERS)
        if counters is not None:
            nic.rates = NicRates(*per_second(counters, nic.counters, elapsed_seconds))
    rates = [nic.rates for nic in reading.interfaces if nic.rates is not None]
    reading.total_rates = NicRates(*(sum(values) for values in zip(*rates, strict=True))) if rates else None


def figures(reading: NetworkReading, sample: SampleView) -> Figures:
    interfaces = [
        ResourceFigures(
            ResourceKind.INTERFACE,
            {"interface": nic.name},
            {
                "network_up": nic.is_up,
                "network_speed_mbps": nic.speed_mbps,
                **named_values(_COUNTERS, nic.counters),
                **_rate_figures(nic.rates),
            },
        )
        for nic in reading.interfaces
    ]
    # Without interfaces (a seed agent sends rates only) the totals since boot are unknown, not zero.
    counted = bool(reading.interfaces)
    machine: dict[str, Value] = {
        "network_sent_mb": reading.sent_mb if counted else None,
        "network_recv_mb": reading.recv_mb if counted else None,
    }
    if reading.total_rates is not None:
        totals = _rate_figures(reading.total_rates)
        machine |= {name: totals[name] for name in _TOTALLED}
    return Figures.of(machine, interfaces, kind=ResourceKind.INTERFACE)


def _rate_figures(rates: NicRates | None) -> dict[str, Value]:
    """The rates by name, with errors and drops also inbound plus outbound (what is graded)."""
    named = named_values(_RATES, rates)
    named["network_errors_per_second"] = _sum_of(
        named["network_errors_in_per_second"], named["network_errors_out_per_second"]
    )
    named["network_drops_per_second"] = _sum_of(
        named["network_drops_in_per_second"], named["network_drops_out_per_second"]
    )
    return named


def _sum_of(inbound: Value, outbound: Value) -> float | None:
    return None if inbound is None or outbound is None else float(inbound) + float(outbound)
