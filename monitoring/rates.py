"""Rates from cumulative counters: the average over the time since the previous sample of the same host.

The counters rates start from (CounterSnapshot), and pure functions over plain numbers; each collector with
counters applies them to its own reading (its `apply_rates`), monitoring.collectors.registry.apply_rates to a
whole sample. A counter that went down was either
wrapped or reset:
- after a reboot (boot time changed) every counter restarts from zero at boot time;
- otherwise it wrapped if it was within WRAP_MARGIN of the 32-bit or 64-bit limit and is now below that
  margin (psutil's counters are 64-bit on current systems; 32-bit ones remain on old kernels and drivers);
- any other decrease is a reset (driver reload, interface re-created), counted from zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from monitoring.catalogue import ResourceKind
from monitoring.containers.counters import ContainerCounters, ListedContainer
from monitoring.figures import Figures, Value

REBOOT_TOLERANCE_SECONDS = 5.0
# How close to its limit a counter must have been to have wrapped (a quarter of the 32-bit range).
WRAP_MARGIN = 2**30


@dataclass(eq=False)
class CounterSnapshot:
    """The cumulative counters rates are computed against: those of the previous stored sample, a live read
    0.25 s earlier (first run on a host), or all zeros at boot time (after a reboot: `zero_for_missing`).
    `counters` holds the counter metrics by name; `processes` each process's (create time, CPU seconds);
    `containers` each running container's counters by id, `listed_containers` every container the sample
    listed, `restart_floors` each container's fewest restarts within CONTAINER_RESTART_WINDOW (stored samples)."""

    taken_at: datetime
    boot_time: float | None
    counters: Figures = field(default_factory=Figures.of)
    processes: dict[int, tuple[float, float]] = field(default_factory=dict)
    containers: dict[str, ContainerCounters] = field(default_factory=dict)
    listed_containers: dict[str, ListedContainer] = field(default_factory=dict)
    restart_floors: dict[str, int] = field(default_factory=dict)
    zero_for_missing: bool = False

    @property
    def has_counters(self) -> bool:
        """False for a stored row without any (a seed platform row): rates need a live window then."""
        resources = (resource.values for items in self.counters.resources.values() for resource in items)
        return any(value is not None for values in (self.counters.machine, *resources) for value in values.values())

    def machine_counters(self, names: Iterable[str]) -> list[float] | None:
        """The machine-wide counters `names`, or None when the first is unknown (zeros after a reboot)."""
        return self.counters_in(self.counters.machine, names)

    def resource_counters(self, kind: ResourceKind, attribute: str) -> dict[object, Mapping[str, Value]]:
        """Each resource's counters of `kind` by `attribute` (a device name, an interface, a core index)."""
        return self.counters.keyed(kind, attribute)

    def counters_in(self, values: Mapping[str, Value] | None, names: Iterable[str]) -> list[float] | None:
        """`names` from one resource's (or the machine's) counters: None where the first is unknown, unless
        every counter counts from zero (after a reboot); a later one unknown reads as zero."""
        names = tuple(names)
        if values is None or values.get(names[0]) is None:
            return [0] * len(names) if self.zero_for_missing else None
        return [_counter(values.get(name)) for name in names]


def _counter(value: Value) -> float:
    """A counter as read back; unknown counts as zero. Integers stay integers (a 64-bit byte counter would lose
    its last digits as a float): `float` is only their static type."""
    return value if isinstance(value, (int, float)) else 0


def counter_delta(previous: float, current: float) -> float:
    """How much a cumulative counter grew, allowing for wrap-around and resets."""
    if current >= previous:
        return current - previous
    for limit in (2**32, 2**64):
        if limit - WRAP_MARGIN <= previous < limit and current < WRAP_MARGIN:
            return current + limit - previous
    return current


def share_percent(
    part_before: float | None, total_before: float | None, part_now: float, total_now: float
) -> float | None:
    """The share (0-100) of the growth of `total` that `part` grew by, such as busy CPU time of all CPU time.
    Counters that went down restarted: the share is then the average since they did."""
    if part_before is None or total_before is None:
        return None
    total, part = total_now - total_before, part_now - part_before
    if total < 0 or part < 0:
        total, part = total_now, part_now
    if total <= 0:
        return None
    return round(min(max(100.0 * part / total, 0.0), 100.0), 2)


def per_second(previous: Sequence[float], current: Sequence[float], elapsed_seconds: float) -> list[float]:
    """Field by field growth of two readings of the same counters, per second."""
    return [counter_delta(before, after) / elapsed_seconds for before, after in zip(previous, current, strict=True)]


def zero_snapshot(boot_time: float) -> CounterSnapshot:
    """The baseline after a reboot: every counter was zero at boot time."""
    return CounterSnapshot(
        taken_at=datetime.fromtimestamp(boot_time, timezone.utc), boot_time=boot_time, zero_for_missing=True
    )


def rebooted(previous: CounterSnapshot, boot_time: float | None) -> bool:
    return (
        previous.boot_time is not None
        and boot_time is not None
        and abs(previous.boot_time - boot_time) > REBOOT_TOLERANCE_SECONDS
    )
