"""The cumulative counters of one container that its rates start from (kept in monitoring.rates.CounterSnapshot
by container id)."""

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
