"""A sample's figures by metric name: what collectors hand over, and what storage, grading and the report read.

Collectors read into typed readings (monitoring.collectors.*); each turns its reading into Figures named as the
catalogue names them, so everything downstream works from the catalogue instead of knowing each reading's shape.
A stored sample read back, or one pushed by another host, is Figures too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from monitoring.catalogue import ResourceKind

Value = float | int | bool | None

# The attributes that identify a resource of each kind (its detail table's columns besides the metrics).
IDENTITY_ATTRIBUTES: dict[ResourceKind, tuple[str, ...]] = {
    ResourceKind.CORE: ("core_index",),
    ResourceKind.MOUNT: ("mountpoint", "device", "fstype", "io_device"),
    ResourceKind.INTERFACE: ("interface",),
    ResourceKind.GPU: ("gpu_index", "name", "uuid", "error_message"),
    ResourceKind.SENSOR: ("chip", "label"),
    # A container's engine-side state, and the raw counters its next sample's rates start from.
    ResourceKind.CONTAINER: (
        "container_id",
        "name",
        "image",
        "engine",
        "state",
        "health",
        "restart_count",
        "exit_code",
        "oom_killed",
        "started_at",
        "cpu_ns_total",
        "net_rx_bytes_total",
        "net_tx_bytes_total",
        "block_read_bytes_total",
        "block_write_bytes_total",
    ),
}


class ResourceFigures(NamedTuple):
    """One resource (a core, a mount, an interface, a GPU, a sensor, a container): who it is and its figures."""

    kind: ResourceKind
    attributes: Mapping[str, Any]
    values: Mapping[str, Value]

    @property
    def key(self) -> str:
        """How incidents and notifications name it: a mount point, an interface, a GPU's UUID (else index), a
        container's name."""
        attributes = self.attributes
        if self.kind is ResourceKind.MOUNT:
            return str(attributes["mountpoint"])
        if self.kind is ResourceKind.INTERFACE:
            return str(attributes["interface"])
        if self.kind is ResourceKind.GPU:
            return str(attributes.get("uuid") or attributes["gpu_index"])
        if self.kind is ResourceKind.SENSOR:
            return f"{attributes['chip']}:{attributes.get('label') or ''}"
        if self.kind is ResourceKind.CONTAINER:
            return str(attributes["name"])
        return str(attributes["core_index"])

    @property
    def override_names(self) -> tuple[str, ...]:
        """The names a per-resource threshold may use, the one that wins first (a GPU's UUID, then its index)."""
        if self.kind is ResourceKind.GPU:
            return tuple(name for name in (self.attributes.get("uuid"), str(self.attributes["gpu_index"])) if name)
        return (self.key,)

    @property
    def display(self) -> str:
        """How people read its name in alerts: `/var`, `eth0`, `GPU 0 (NVIDIA H100)`, `container web-1`."""
        if self.kind is ResourceKind.GPU:
            name = self.attributes.get("name")
            return f"GPU {self.attributes['gpu_index']}" + (f" ({name})" if name else "")
        if self.kind is ResourceKind.CONTAINER:
            return f"container {self.key}"
        return self.key


class Figures(NamedTuple):
    """Machine-wide figures by metric name (for a per-resource metric: the machine's own figure, such as the
    system disk's usage or the sum over the interfaces), the resources' figures by kind, and the machine-wide
    attributes stored beside them (the system disk's mount point)."""

    machine: Mapping[str, Value]
    resources: Mapping[ResourceKind, list[ResourceFigures]]
    attributes: Mapping[str, Any]

    @classmethod
    def of(
        cls,
        machine: Mapping[str, Value] | None = None,
        resources: Iterable[ResourceFigures] = (),
        attributes: Mapping[str, Any] | None = None,
        kind: ResourceKind | None = None,
    ) -> Figures:
        """Figures from plain parts; `kind` is the kind of `resources`, listed even when there are none (a
        machine without GPUs: the GPU collector ran and found none)."""
        by_kind: dict[ResourceKind, list[ResourceFigures]] = {kind: []} if kind is not None else {}
        for resource in resources:
            by_kind.setdefault(resource.kind, []).append(resource)
        return cls(dict(machine or {}), by_kind, dict(attributes or {}))

    @classmethod
    def merged(cls, parts: Iterable[Figures]) -> Figures:
        """One sample's figures from its collectors' parts (no two collectors produce the same metric)."""
        machine: dict[str, Value] = {}
        resources: dict[ResourceKind, list[ResourceFigures]] = {}
        attributes: dict[str, Any] = {}
        for part in parts:
            machine |= part.machine
            attributes |= part.attributes
            for kind, items in part.resources.items():
                resources.setdefault(kind, []).extend(items)
        return cls(machine, resources, attributes)

    def of_kind(self, kind: ResourceKind) -> list[ResourceFigures]:
        return self.resources.get(kind, [])

    def keyed(self, kind: ResourceKind, attribute: str) -> dict[Any, Mapping[str, Value]]:
        """The figures of each resource of `kind` by one of its attributes (a device's counters by its name)."""
        return {resource.attributes.get(attribute): resource.values for resource in self.of_kind(kind)}


def named_values(names: tuple[str, ...], values: tuple[Value, ...] | None) -> dict[str, Value]:
    """A reading's NamedTuple of figures under the catalogue's names, field by field (all None without one)."""
    return dict(zip(names, values if values is not None else (None,) * len(names), strict=True))
