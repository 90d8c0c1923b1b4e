"""Docker and Podman containers through the engine's API on its unix socket: one listing per run, figures from
the containers' cgroup files (monitoring.containers.cgroups), the stats API only where those cannot be read.

The listing says each container's state, and for Docker its health and last exit code in its Status text. What it
lacks (restart count, OOM kill, start time, the main PID the cgroup is found from) comes from one inspect request
per container, kept for the life of the process and asked again only where something changed: a running
container whose main process is gone (it restarted), a stopped one with another exit code, and every restarting
or paused one, and Podman's health-checked ones (Podman's Status text has no health). A one-shot run inspects
each container once; an agent or the dashboard, sampling again, inspects only what changed.

Rates (CPU cores used, network and block I/O bytes per second) are deltas against the previous sample's counters
(monitoring.rates.CounterSnapshot.containers), over the times the counters were read. A value that cannot be right
(a counter that went backwards in a container that did not restart, more CPU than the host has) is dropped and
counted in `dropped_values`. No engine, or a socket this user may not use, gives an empty reading and one INFO
line per process, never a failed run.

Each container is a resource of the sample (ResourceKind.CONTAINER): its figures are catalogue metrics, stored in
system_metric_containers with its state and the raw counters the next sample's rates start from.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import msgspec

from monitoring.catalogue import ResourceKind
from monitoring.collectors import CollectorSettings, SampleView
from monitoring.containers import cgroups
from monitoring.containers.counters import ContainerCounters, ListedContainer
from monitoring.containers.engine_client import EngineClient, EngineError, EngineUnavailable, find_socket
from monitoring.containers.engine_stats import StatsFigures, docker_stats, podman_stats
from monitoring.figures import Figures, ResourceFigures
from monitoring.rates import CounterSnapshot

PRODUCES = (
    "container_cpu_cores",
    "container_cpu_host_percent",
    "container_memory_used_bytes",
    "container_memory_limit_bytes",
    "container_memory_percent",
    "container_net_rx_bytes_per_second",
    "container_net_tx_bytes_per_second",
    "container_block_read_bytes_per_second",
    "container_block_write_bytes_per_second",
    "container_pids",
    "container_restarts",
    "container_unhealthy",
    "container_oom_killed",
    "container_failed",
    "container_gone",
)
LIST_PATH = "/containers/json?all=true"
# More CPU than the host has, within this share of a core per core, is timing jitter between the two reads.
CPU_JITTER = 0.05
_NEVER_STARTED = "0001-01-01T00:00:00Z"
_EXIT_CODE = re.compile(r"^(?:Exited|Restarting) \((-?\d+)\)")
_HEALTH = (("(unhealthy)", "unhealthy"), ("(healthy)", "healthy"), ("(health: starting)", "starting"))

log = logging.getLogger(__name__)
_reported: set[str] = set()  # the "no containers to report" lines this process has logged at INFO


@dataclass(eq=False)
class ContainerReading:
    """One container. CPU is given twice, named apart: `cpu_cores` (cores busy, 1.0 for a busy loop: what
    `docker stats` shows as 100 %) and `cpu_host_percent` (share of the whole host: cores / online CPUs x 100).
    Memory is used memory without the inactive file cache (as `docker stats`), its % of the limit, or of the
    host's memory when the container has none."""

    id: str
    name: str
    image: str
    state: str
    engine: str | None = None  # "docker", "podman"
    health: str | None = None  # None (no health check), "healthy", "unhealthy", "starting"
    restart_count: int | None = None
    exit_code: int | None = None
    oom_killed: bool | None = None
    started_at: str | None = None
    pid: int | None = None
    cpu_cores: float | None = None
    cpu_host_percent: float | None = None
    memory_used_bytes: int | None = None
    memory_limit_bytes: int | None = None
    memory_percent: float | None = None
    net_rx_bytes_per_second: float | None = None
    net_tx_bytes_per_second: float | None = None
    block_read_bytes_per_second: float | None = None
    block_write_bytes_per_second: float | None = None
    pids: int | None = None
    source: str | None = None  # where the figures came from: "cgroup" or "stats-api"; None: not running
    counters: ContainerCounters | None = None
    restarts_in_window: int | None = None  # restarts within CONTAINER_RESTART_WINDOW
    gone: int | None = None  # 1: listed by the previous sample, not by this one (state "gone"); 0: listed


@dataclass(eq=False)
class ContainersReading:
    engine: str | None = None  # "docker", "podman"; None: no engine answered
    containers: list[ContainerReading] = field(default_factory=list)
    dropped_values: int = 0
    problems: list[str] = field(default_factory=list)


class _Listed(msgspec.Struct):
    Id: str
    Names: list[str] | None = None
    Image: str = ""
    State: str = ""
    Status: str = ""


class _Health(msgspec.Struct):
    Status: str = ""


class _State(msgspec.Struct):
    Status: str = ""
    Pid: int = 0
    ExitCode: int | None = None
    OOMKilled: bool = False
    StartedAt: str | None = None
    Health: _Health | None = None


class _Inspected(msgspec.Struct):
    Id: str
    State: _State
    RestartCount: int = 0


class _Known(NamedTuple):
    """What an inspect said of a container, and the cgroup found from its PID (running ones)."""

    state: str
    exit_code: int | None
    inspected: _Inspected
    dirs: cgroups.CgroupDirs | None


# What this process has inspected, by container id (see the module's docstring).
_known: dict[str, _Known] = {}
# Each container's (time, restart count) seen by this process within the restart window: an agent or the
# dashboard counts restarts from them; a one-shot run has the stored samples' (CounterSnapshot.restart_floors).
_restart_history: dict[str, list[tuple[float, int]]] = {}
_STOPPED = ("exited", "dead")
GONE = "gone"  # the state of a container the previous sample listed and this one does not


def collect(settings: CollectorSettings) -> ContainersReading:
    socket_path = find_socket(settings.container_engine_socket, os.environ)
    if socket_path is None:
        _no_engine("no container engine socket found")
        return ContainersReading()
    client = EngineClient(socket_path)
    try:
        reading = _collect(client)
        _count_restarts(reading, settings.container_restart_window_seconds)
        return reading
    except EngineUnavailable as error:
        _no_engine(f"no container engine answers ({error})")
        return ContainersReading()
    except EngineError as error:
        return ContainersReading(engine=client.engine, problems=[str(error)])
    finally:
        client.close()


def _no_engine(reason: str) -> None:
    """Why there are no containers: at INFO the first time this process meets the reason, at DEBUG after that."""
    level = logging.DEBUG if reason in _reported else logging.INFO
    _reported.add(reason)
    log.log(level, "containers: %s; no containers to report", reason)


def _collect(client: EngineClient) -> ContainersReading:
    listed = client.get(LIST_PATH, list[_Listed])
    reading = ContainersReading(engine=client.engine)
    for container_id in set(_known) - {container.Id for container in listed}:
        del _known[container_id]  # removed
    for container in listed:
        if not _still_known(container, client.engine):
            _known.pop(container.Id, None)
    needing_stats = []
    for container in listed:
        item = _container(client, container, reading)
        reading.containers.append(item)
        if item.state == "running" and item.source is None:
            needing_stats.append(item)
    if needing_stats:
        _fill_from_stats(client, needing_stats, reading)
    return reading


def _still_known(container: _Listed, engine: str | None) -> bool:
    """Whether what this process knows of the container still holds (no inspect needed)."""
    known = _known.get(container.Id)
    if known is None or known.state != container.State:
        return False
    if container.State == "running":
        if engine == "podman" and known.inspected.State.Health is not None:
            return False
        return os.path.exists(f"/proc/{known.inspected.State.Pid}")
    if container.State in ("exited", "created", "dead"):
        return known.exit_code == _exit_code(container.Status)
    return False  # restarting, paused, removing: their state moves


def _container(client: EngineClient, listed: _Listed, reading: ContainersReading) -> ContainerReading:
    known = _known.get(listed.Id)
    if known is None:
        try:
            inspected = client.get(f"/containers/{listed.Id}/json", _Inspected)
        except EngineError as error:  # removed since the listing, or an engine fault: keep what the listing says
            reading.problems.append(str(error))
            inspected = None
        if inspected is not None:
            known = _Known(listed.State, _exit_code(listed.Status), inspected, None)
            _known[listed.Id] = known
    item = ContainerReading(
        id=listed.Id,
        name=(listed.Names or [listed.Id[:12]])[0].lstrip("/"),
        image=listed.Image,
        state=listed.State,
        engine=client.engine,
        health=_health(listed.Status),
        exit_code=_exit_code(listed.Status),
    )
    if known is None:
        return item
    state = known.inspected.State
    item.restart_count = known.inspected.RestartCount
    item.oom_killed = state.OOMKilled
    item.started_at = state.StartedAt if state.StartedAt and state.StartedAt != _NEVER_STARTED else None
    if state.Health is not None and state.Health.Status and state.Health.Status != "none":
        item.health = state.Health.Status if item.health is None else item.health
    if listed.State not in ("running", "restarting"):
        item.exit_code = state.ExitCode if state.ExitCode is not None else item.exit_code
    if listed.State == "running" and state.Pid > 0:
        item.pid = state.Pid
        _fill_from_cgroup(item, known, reading)
    return item


def _fill_from_cgroup(item: ContainerReading, known: _Known, reading: ContainersReading) -> None:
    """The figures of a running container from its cgroup files; left unset where they cannot be read."""
    pid = known.inspected.State.Pid
    try:
        dirs = known.dirs
        if dirs is None:
            dirs = cgroups.cgroup_dirs(pid)
            _known[item.id] = known._replace(dirs=dirs)
        usage = cgroups.read_usage(dirs)
        net: cgroups.NetCounters | None = cgroups.read_net(pid)
    except (OSError, ValueError):
        return
    used = usage.memory_usage_bytes
    if usage.memory_inactive_file_bytes < used:
        used -= usage.memory_inactive_file_bytes
    item.source = "cgroup"
    _set_figures(
        item,
        StatsFigures(
            usage.cpu_ns,
            used,
            usage.memory_limit_bytes,
            usage.pids,
            net.rx_bytes if net else None,
            net.tx_bytes if net else None,
            usage.block_read_bytes,
            usage.block_write_bytes,
        ),
    )


def _fill_from_stats(client: EngineClient, items: list[ContainerReading], reading: ContainersReading) -> None:
    """The figures of running containers whose cgroups cannot be read, from the engine's stats API."""
    try:
        if client.engine == "podman":
            found = podman_stats(client)
        else:
            found = docker_stats(client.socket_path, client.timeout_seconds, (item.id for item in items))
    except EngineError as error:
        reading.problems.append(str(error))
        return
    for item in items:
        figures = found.get(item.id)
        if figures is not None:
            item.source = "stats-api"
            _set_figures(item, figures)


def _set_figures(item: ContainerReading, figures: StatsFigures) -> None:
    host_memory_bytes = _host_memory_bytes()
    limit = figures.memory_limit_bytes
    item.memory_limit_bytes = limit if limit is not None and limit < host_memory_bytes else None
    item.memory_used_bytes = figures.memory_used_bytes
    if figures.memory_used_bytes is not None:
        item.memory_percent = round(
            100.0 * figures.memory_used_bytes / (item.memory_limit_bytes or host_memory_bytes), 2
        )
    item.pids = figures.pids
    item.counters = ContainerCounters(
        read_at=time.time(),
        started_at=item.started_at,
        cpu_ns=figures.cpu_ns,
        net_rx_bytes=figures.net_rx_bytes,
        net_tx_bytes=figures.net_tx_bytes,
        block_read_bytes=figures.block_read_bytes,
        block_write_bytes=figures.block_write_bytes,
    )


def _host_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _online_cpus() -> int:
    return os.sysconf("SC_NPROCESSORS_ONLN") or 1


def _exit_code(status: str) -> int | None:
    match = _EXIT_CODE.match(status)
    return int(match.group(1)) if match else None


def _health(status: str) -> str | None:
    return next((health for marker, health in _HEALTH if marker in status), None)


def apply_rates(reading: ContainersReading, previous: CounterSnapshot, elapsed_seconds: float) -> None:
    """Each running container's rates against its counters in `previous` (none for one that is new or restarted
    since); impossible values are dropped and counted."""
    _lifecycle(reading, previous)
    online_cpus = _online_cpus()
    for item in reading.containers:
        now, before = item.counters, previous.containers.get(item.id)
        if now is None or before is None or before.started_at != now.started_at:
            continue
        seconds = now.read_at - before.read_at
        if seconds <= 0:
            continue
        rates: list[float | None] = []
        for name in ("cpu_ns", "net_rx_bytes", "net_tx_bytes", "block_read_bytes", "block_write_bytes"):
            current, earlier = getattr(now, name), getattr(before, name)
            if current is None or earlier is None:
                rates.append(None)
            elif current < earlier:  # the same container's counter cannot go down
                reading.dropped_values += 1
                rates.append(None)
            else:
                rates.append((current - earlier) / seconds)
        cpu_ns_per_second, *io = rates
        if cpu_ns_per_second is not None:
            cores = cpu_ns_per_second / 1e9
            if cores > online_cpus * (1 + CPU_JITTER):
                reading.dropped_values += 1
            else:
                item.cpu_cores = round(min(cores, online_cpus), 4)
                item.cpu_host_percent = round(100.0 * item.cpu_cores / online_cpus, 2)
        (
            item.net_rx_bytes_per_second,
            item.net_tx_bytes_per_second,
            item.block_read_bytes_per_second,
            item.block_write_bytes_per_second,
        ) = io


def _count_restarts(reading: ContainersReading, window_seconds: float) -> None:
    """Each container's restarts within the window, from what this process has seen of it."""
    now = time.monotonic()
    listed = {item.id for item in reading.containers}
    for container_id in set(_restart_history) - listed:
        del _restart_history[container_id]
    for item in reading.containers:
        if item.restart_count is None:
            continue
        history = [(seen, count) for seen, count in _restart_history.get(item.id, []) if now - seen <= window_seconds]
        history.append((now, item.restart_count))
        _restart_history[item.id] = history
        item.restarts_in_window = item.restart_count - min(count for _, count in history)


def _lifecycle(reading: ContainersReading, previous: CounterSnapshot) -> None:
    """Restarts counted from the stored samples' floor where that reaches further back, and the containers the
    previous sample listed that are gone: a row with state "gone" and `gone` 1, then once more with `gone` 0."""
    listed = {item.id for item in reading.containers}
    for item in reading.containers:
        item.gone = 0
        floor = previous.restart_floors.get(item.id)
        if item.restart_count is not None and floor is not None and floor <= item.restart_count:
            item.restarts_in_window = max(item.restarts_in_window or 0, item.restart_count - floor)
    for container_id, before in previous.listed_containers.items():
        if container_id in listed or (before.state == GONE and before.gone != 1):
            continue
        reading.containers.append(
            ContainerReading(
                id=container_id,
                name=before.name,
                image=before.image or "",
                state=GONE,
                engine=before.engine,
                gone=0 if before.state == GONE else 1,
            )
        )


def listed(reading: ContainersReading) -> dict[str, ListedContainer]:
    """Every container of the reading, gone ones included: the next sample's view of this one."""
    return {
        item.id: ListedContainer(item.name, item.image, item.engine, item.state, item.gone)
        for item in reading.containers
    }


def counters(reading: ContainersReading) -> dict[str, ContainerCounters]:
    """Each running container's counters by id: the next sample's baseline."""
    return {item.id: item.counters for item in reading.containers if item.counters is not None}


def figures(reading: ContainersReading, sample: SampleView) -> Figures:
    return Figures.of(resources=map(_figures_of, reading.containers), kind=ResourceKind.CONTAINER)


def _figures_of(item: ContainerReading) -> ResourceFigures:
    counters = item.counters
    return ResourceFigures(
        ResourceKind.CONTAINER,
        {
            "container_id": item.id,
            "name": item.name,
            "image": item.image,
            "engine": item.engine,
            "state": item.state,
            "health": item.health,
            "restart_count": item.restart_count,
            "exit_code": item.exit_code,
            "oom_killed": item.oom_killed,
            "started_at": item.started_at,
            "cpu_ns_total": counters.cpu_ns if counters else None,
            "net_rx_bytes_total": counters.net_rx_bytes if counters else None,
            "net_tx_bytes_total": counters.net_tx_bytes if counters else None,
            "block_read_bytes_total": counters.block_read_bytes if counters else None,
            "block_write_bytes_total": counters.block_write_bytes if counters else None,
        },
        {
            "container_cpu_cores": item.cpu_cores,
            "container_cpu_host_percent": item.cpu_host_percent,
            "container_memory_used_bytes": item.memory_used_bytes,
            "container_memory_limit_bytes": item.memory_limit_bytes,
            "container_memory_percent": item.memory_percent,
            "container_net_rx_bytes_per_second": item.net_rx_bytes_per_second,
            "container_net_tx_bytes_per_second": item.net_tx_bytes_per_second,
            "container_block_read_bytes_per_second": item.block_read_bytes_per_second,
            "container_block_write_bytes_per_second": item.block_write_bytes_per_second,
            "container_pids": item.pids,
            "container_restarts": item.restarts_in_window,
            "container_unhealthy": None if item.health is None else int(item.health == "unhealthy"),
            "container_oom_killed": None if item.oom_killed is None else int(item.oom_killed),
            "container_failed": int(item.state in _STOPPED and item.exit_code not in (None, 0)),
            "container_gone": item.gone,
        },
    )
