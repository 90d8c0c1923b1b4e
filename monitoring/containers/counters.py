"""What the next sample of a host needs of a container in this one (kept in monitoring.rates.CounterSnapshot by
container id): the cumulative counters its rates start from, and what it was (a container no longer listed
is reported gone, once)."""

from __future__ import annotations

from typing import NamedTuple


class ContainerCounters(NamedTuple):
    """Read at `read_at` (Unix seconds) from a container started at `started_at` (the engine's text): a container
    that restarted since counts from zero again, so its counters are no baseline for the next ones. None: not
    readable."""

    read_at: float
    started_at: str | None
    cpu_ns: int | None
    net_rx_bytes: int | None
    net_tx_bytes: int | None
    block_read_bytes: int | None
    block_write_bytes: int | None


class ListedContainer(NamedTuple):
    """A container as a sample listed it: a later sample that no longer lists it reports it gone (`gone` 1),
    and the one after that reports it once more with `gone` 0, which resolves the incident."""

    name: str
    image: str | None
    engine: str | None
    state: str
    gone: int | None
