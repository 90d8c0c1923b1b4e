"""Writing a monitoring sample; reading back the counters the next sample's rates start from and the disk
usage history the disk-full forecast is fitted to.

Core statements on storage.tables, one transaction per call: a one-shot run from cron pays no ORM mapping.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import Connection, RowMapping

from monitoring.catalogue import BY_NAME, ResourceKind
from monitoring.collectors.registry import RATE_COUNTERS
from monitoring.containers.counters import ContainerCounters, ListedContainer
from monitoring.figures import IDENTITY_ATTRIBUTES, Figures, ResourceFigures
from monitoring.rates import CounterSnapshot
from storage import tables
from storage.database import inserted_id
from storage.many_rows import as_json, next_ids, uniform, write_many
from storage.sample_rows import RESOURCE_TABLES, SampleRows

# Only the columns rates start from: compiling a select of every column costs more than the whole query.
_COUNTERS = [BY_NAME[name] for name in RATE_COUNTERS]
# The process baseline belongs to the sample taken within this of it (both are written by one run).
_BASELINE_TOLERANCE_SECONDS = 1.0


class StoredCounters(NamedTuple):
    """The newest sample of a host with the detail rows that hold counters, and the host's process baseline:
    id, timestamp, boot time and the machine's counters; each core's, mount's and interface's identity and
    counters (the counter columns are the catalogue's)."""

    metric: RowMapping
    cores: list[RowMapping]
    disks: list[RowMapping]
    networks: list[RowMapping]
    baseline: RowMapping | None
    containers: list[RowMapping]
    restart_floors: dict[str, int]

    def snapshot(self) -> CounterSnapshot:
        """The counters as the next sample's rates read them."""
        metric = self.metric
        resources = [
            ResourceFigures(
                kind,
                {name: row[name] for name in IDENTITY_ATTRIBUTES[kind]},
                {name: row[column] for name, column in _counters_of(kind)},
            )
            for kind, rows in zip(_RESOURCE_KINDS, (self.cores, self.disks, self.networks), strict=True)
            for row in rows
        ]
        machine = {name: metric[column] for name, column in _counters_of(None)}
        return CounterSnapshot(
            taken_at=metric["timestamp"],
            boot_time=metric["boot_time"].timestamp() if metric["boot_time"] else None,
            counters=Figures.of(machine, resources),
            processes=self._processes(),
            containers=self._containers(),
            listed_containers={
                row["container_id"]: ListedContainer(
                    row["name"], row["image"], row["engine"], row["state"], row["gone"]
                )
                for row in self.containers
            },
            restart_floors=self.restart_floors,
        )

    def _containers(self) -> dict[str, ContainerCounters]:
        """Each running container's counters, read at about the sample's time (the collection takes
        milliseconds; the rates average over the 5 minutes between samples)."""
        read_at = self.metric["timestamp"].timestamp()
        return {
            row["container_id"]: ContainerCounters(
                read_at, row["started_at"], *(row[name] for name in _CONTAINER_COUNTERS)
            )
            for row in self.containers
            if row["cpu_ns_total"] is not None
        }

    def _processes(self) -> dict[int, tuple[float, float]]:
        baseline = self.baseline
        if (
            baseline is None
            or abs((baseline["taken_at"] - self.metric["timestamp"]).total_seconds()) >= _BASELINE_TOLERANCE_SECONDS
        ):
            return {}
        return {int(pid): (pair[0], pair[1]) for pid, pair in json.loads(baseline["counters_json"]).items()}


# What the next sample reads of each container of the previous one: who it was and its counters (those in
# ContainerCounters' order after its read time and start time).
_CONTAINER_COUNTERS = (
    "cpu_ns_total",
    "net_rx_bytes_total",
    "net_tx_bytes_total",
    "block_read_bytes_total",
    "block_write_bytes_total",
)
_CONTAINER_COLUMNS = (
    "container_id",
    "name",
    "image",
    "engine",
    "state",
    "restart_count",
    "gone",
    "started_at",
    *_CONTAINER_COUNTERS,
)
# The resources whose rows hold counters, in StoredCounters' order.
_RESOURCE_KINDS = (ResourceKind.CORE, ResourceKind.MOUNT, ResourceKind.INTERFACE)
assert {metric.resource_kind for metric in _COUNTERS} <= {None, *_RESOURCE_KINDS}, "StoredCounters misses a kind"


def _counters_of(kind: ResourceKind | None) -> list[tuple[str, str]]:
    """(metric name, column) of the counters of the machine (None) or of a kind of resource."""
    return [(metric.name, column) for metric in _COUNTERS if metric.resource_kind is kind and (column := metric.column)]


def latest_counters(
    connection: Connection, hostname: str, not_after: datetime, restart_window_seconds: float = 900
) -> StoredCounters | None:
    """The newest sample of `hostname` taken at or before `not_after` (a row dated in the future by a clock
    that was wrong must not block every later rate), with its containers' restarts within the window."""
    metrics = tables.system_metrics
    metric = (
        connection.execute(
            select(
                metrics.c.id,
                metrics.c.timestamp,
                metrics.c.boot_time,
                *(metrics.c[column] for _, column in _counters_of(None)),
            )
            .where(metrics.c.hostname == hostname, metrics.c.timestamp <= not_after)
            .order_by(metrics.c.timestamp.desc(), metrics.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if metric is None:
        return None

    def details(kind: ResourceKind) -> list[RowMapping]:
        table = tables.metadata.tables[RESOURCE_TABLES[kind]]
        statement = (
            select(
                *(table.c[name] for name in IDENTITY_ATTRIBUTES[kind]),
                *(table.c[column] for _, column in _counters_of(kind)),
            )
            .where(table.c.system_metric_id == metric["id"])
            .order_by(table.c.id)
        )
        return list(connection.execute(statement).mappings())

    baselines = tables.process_cpu_baselines
    baseline = (
        connection.execute(
            select(baselines.c.taken_at, baselines.c.counters_json).where(baselines.c.hostname == hostname)
        )
        .mappings()
        .first()
    )
    cores, disks, networks = (details(kind) for kind in _RESOURCE_KINDS)
    containers = tables.system_metric_containers
    listed = connection.execute(
        select(*(containers.c[name] for name in _CONTAINER_COLUMNS))
        .where(containers.c.system_metric_id == metric["id"])
        .order_by(containers.c.id)
    )
    rows = list(listed.mappings())
    floors = _restart_floors(connection, hostname, not_after, restart_window_seconds) if _restarted(rows) else {}
    return StoredCounters(metric, cores, disks, networks, baseline, rows, floors)


def _restarted(rows: list[RowMapping]) -> bool:
    return any(row["restart_count"] for row in rows)


def _restart_floors(connection: Connection, hostname: str, until: datetime, window_seconds: float) -> dict[str, int]:
    """Each container's fewest restarts in the host's samples within the window before `until`."""
    metrics, containers = tables.system_metrics, tables.system_metric_containers
    rows = connection.execute(
        select(containers.c.container_id, func.min(containers.c.restart_count))
        .join_from(metrics, containers, containers.c.system_metric_id == metrics.c.id)
        .where(
            metrics.c.hostname == hostname,
            metrics.c.timestamp >= until - timedelta(seconds=window_seconds),
            metrics.c.timestamp <= until,
            containers.c.restart_count.is_not(None),
        )
        .group_by(containers.c.container_id)
    )
    return {container_id: int(floor) for container_id, floor in rows}


# Built once (the hub forecasts each host's disks every few minutes): values as parameters.
_DISK_HISTORY = (
    select(
        tables.system_metric_disks.c.mountpoint,
        tables.system_metrics.c.timestamp,
        tables.system_metric_disks.c.used_bytes,
    )
    .join_from(
        tables.system_metrics,
        tables.system_metric_disks,
        tables.system_metric_disks.c.system_metric_id == tables.system_metrics.c.id,
    )
    .where(
        tables.system_metrics.c.hostname == bindparam("hostname"),
        tables.system_metrics.c.timestamp >= bindparam("since"),
        tables.system_metrics.c.timestamp < bindparam("until"),
        tables.system_metric_disks.c.used_bytes.is_not(None),
    )
    .order_by(tables.system_metrics.c.timestamp)
)


def disk_usage_history(
    connection: Connection, hostname: str, since: datetime, until: datetime
) -> dict[str, list[tuple[datetime, float]]]:
    """Per mount point, (time, used bytes) of the host's samples taken in [since, until), oldest first.
    Bounded by the (hostname, timestamp) index; the disk rows are found by their system_metric_id index."""
    rows = connection.execute(_DISK_HISTORY, {"hostname": hostname, "since": since, "until": until})
    history: dict[str, list[tuple[datetime, float]]] = {}
    for mountpoint, timestamp, used_bytes in rows:
        history.setdefault(mountpoint, []).append((timestamp, float(used_bytes)))
    return history


def save_sample(
    connection: Connection, rows: SampleRows, notifications: list[dict[str, Any]], baseline: dict[str, Any] | None
) -> int:
    """Insert the sample, its details and notifications, and replace the host's process baseline.
    Returns the new system_metrics id. The caller's transaction makes it all or nothing."""
    (sample_id,) = save_samples(connection, [rows])
    if notifications:
        connection.execute(
            insert(tables.notifications), [{**value, "system_metric_id": sample_id} for value in notifications]
        )
    if baseline is not None:
        connection.execute(_upsert_baseline(connection.dialect.name, baseline))
    return sample_id


def save_samples(connection: Connection, many: list[SampleRows]) -> list[int]:
    """Insert samples with their details, in order; their system_metrics ids. Several samples (a host's backlog,
    a group of pushes) cost one statement per table, not per sample (storage.many_rows): on PostgreSQL the ids
    are drawn from the sequence first, and every table's rows then go in one round trip; elsewhere the ids come
    back from one INSERT ... RETURNING where the dialect keeps their order (SQLite), else from one INSERT per
    sample. The detail rows are given their sample's id (system_metric_id) in place."""
    if not many:
        return []
    metrics = tables.system_metrics
    metric_rows = [rows.metric for rows in many]
    if as_json(connection):
        ids = next_ids(connection, metrics, len(many))
        metric_rows = [{"id": sample_id, **row} for sample_id, row in zip(ids, metric_rows, strict=True)]
    elif len(many) > 1 and connection.dialect.insert_executemany_returning_sort_by_parameter_order:
        statement = insert(metrics).returning(metrics.c.id, sort_by_parameter_order=True)
        ids = [int(sample_id) for sample_id in connection.scalars(statement, uniform(metric_rows))]
    else:
        # Values as parameters, not .values(): the statement stays the same, so it is compiled once per engine.
        ids = [int(inserted_id(connection.execute(insert(metrics), row))) for row in metric_rows]
    details: dict[str, list[dict[str, Any]]] = {}
    for sample_id, rows in zip(ids, many, strict=True):
        for table_name, values in rows.details.items():
            for value in values:  # in place: a copy of each of a group's hundreds of rows costs more than its write
                value["system_metric_id"] = sample_id
            details.setdefault(table_name, []).extend(values)
    written = [(metrics, metric_rows)] if as_json(connection) else []
    write_many(connection, written + [(tables.metadata.tables[name], values) for name, values in details.items()])
    return ids


def _upsert_baseline(dialect: str, values: dict[str, Any]) -> Any:
    """Insert or replace the host's baseline in one statement: runs of the same host at the same moment (cron
    and the scheduler) must not fail on the primary key, as a delete followed by an insert can."""
    table, changed = (
        tables.process_cpu_baselines,
        {"taken_at": values["taken_at"], "counters_json": values["counters_json"]},
    )
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        return mysql_insert(table).values(**values).on_duplicate_key_update(**changed)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return (
            postgresql_insert(table).values(**values).on_conflict_do_update(index_elements=["hostname"], set_=changed)
        )
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).values(**values).on_conflict_do_update(index_elements=["hostname"], set_=changed)


def insert_notification(connection: Connection, values: dict[str, Any]) -> int:
    """One notifications row; its id (for its deliveries)."""
    return inserted_id(connection.execute(insert(tables.notifications).values(**values)))
