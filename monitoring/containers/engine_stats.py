"""Figures from the engine's stats API, where a container's cgroup files cannot be read (another mount namespace,
no permission): Podman's one request for every container, else Docker's one-shot stats request per container, at
most MAX_CONCURRENT at a time, each within the client's timeout. Never the two-sample wait: rates are the
collector's deltas against the previous sample, as for the cgroup figures."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import msgspec

from monitoring.containers.cgroups import UNLIMITED_BYTES
from monitoring.containers.engine_client import EngineClient, EngineError, EngineUnavailable

MAX_CONCURRENT = 5
PODMAN_STATS_PATH = "/v4.0.0/libpod/containers/stats?stream=false&all=true"


class StatsFigures(NamedTuple):
    """One container's figures as the stats API gives them (memory already without inactive file cache)."""

    cpu_ns: int | None
    memory_used_bytes: int | None
    memory_limit_bytes: int | None
    pids: int | None
    net_rx_bytes: int | None
    net_tx_bytes: int | None
    block_read_bytes: int | None
    block_write_bytes: int | None


class _PodmanStat(msgspec.Struct):
    ContainerID: str
    CPUNano: int | None = None
    MemUsage: int | None = None
    MemLimit: int | None = None
    NetInput: int | None = None
    NetOutput: int | None = None
    BlockInput: int | None = None
    BlockOutput: int | None = None
    PIDs: int | None = None


class _PodmanStats(msgspec.Struct):
    Stats: list[_PodmanStat] | None = None
    Error: object = None


def podman_stats(client: EngineClient) -> dict[str, StatsFigures]:
    """Every running container's figures in one request, by container id."""
    answer = client.get(PODMAN_STATS_PATH, _PodmanStats)
    if answer.Error:
        raise EngineError(f"GET {PODMAN_STATS_PATH}: {answer.Error}")
    return {
        stat.ContainerID: StatsFigures(
            stat.CPUNano,
            stat.MemUsage,
            _limit(stat.MemLimit),
            stat.PIDs,
            stat.NetInput,
            stat.NetOutput,
            stat.BlockInput,
            stat.BlockOutput,
        )
        for stat in answer.Stats or []
    }


class _CpuUsage(msgspec.Struct):
    total_usage: int | None = None


class _CpuStats(msgspec.Struct):
    cpu_usage: _CpuUsage = msgspec.field(default_factory=_CpuUsage)


class _MemoryStats(msgspec.Struct):
    usage: int | None = None
    limit: int | None = None
    stats: dict[str, int] = {}


class _Network(msgspec.Struct):
    rx_bytes: int = 0
    tx_bytes: int = 0


class _BlockEntry(msgspec.Struct):
    op: str = ""
    value: int = 0


class _BlockStats(msgspec.Struct):
    io_service_bytes_recursive: list[_BlockEntry] | None = None


class _PidsStats(msgspec.Struct):
    current: int | None = None


class _DockerStats(msgspec.Struct):
    cpu_stats: _CpuStats = msgspec.field(default_factory=_CpuStats)
    memory_stats: _MemoryStats = msgspec.field(default_factory=_MemoryStats)
    networks: dict[str, _Network] | None = None
    blkio_stats: _BlockStats = msgspec.field(default_factory=_BlockStats)
    pids_stats: _PidsStats = msgspec.field(default_factory=_PidsStats)


def docker_stats(socket_path: str, timeout_seconds: float, ids: Iterable[str]) -> dict[str, StatsFigures]:
    """One-shot stats of each container in `ids`, MAX_CONCURRENT at a time; a container whose request fails or
    times out is left out (its figures stay unknown)."""
    ids = list(ids)
    if not ids:
        return {}

    def one(container_id: str) -> tuple[str, StatsFigures | None]:
        client = EngineClient(socket_path, timeout_seconds)
        try:
            stats = client.get(f"/containers/{container_id}/stats?stream=false&one-shot=true", _DockerStats)
        except (EngineError, EngineUnavailable):
            return container_id, None
        finally:
            client.close()
        return container_id, _docker_figures(stats)

    with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT, len(ids))) as pool:
        return {container_id: figures for container_id, figures in pool.map(one, ids) if figures is not None}


def _docker_figures(stats: _DockerStats) -> StatsFigures:
    memory = stats.memory_stats
    inactive = memory.stats.get("total_inactive_file", memory.stats.get("inactive_file", 0))
    used = None if memory.usage is None else memory.usage - inactive if inactive < memory.usage else memory.usage
    networks = (stats.networks or {}).values()
    blocks = stats.blkio_stats.io_service_bytes_recursive
    return StatsFigures(
        cpu_ns=stats.cpu_stats.cpu_usage.total_usage,
        memory_used_bytes=used,
        memory_limit_bytes=_limit(memory.limit),
        pids=stats.pids_stats.current,
        net_rx_bytes=sum(network.rx_bytes for network in networks) if stats.networks is not None else None,
        net_tx_bytes=sum(network.tx_bytes for network in networks) if stats.networks is not None else None,
        block_read_bytes=None if blocks is None else sum(b.value for b in blocks if b.op.lower() == "read"),
        block_write_bytes=None if blocks is None else sum(b.value for b in blocks if b.op.lower() == "write"),
    )


def _limit(limit_bytes: int | None) -> int | None:
    return None if not limit_bytes or limit_bytes >= UNLIMITED_BYTES else limit_bytes
