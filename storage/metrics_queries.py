"""Reading stored samples back: pages of rows, the newest sample with its details, and time buckets.

Bucketing runs in SQL (one GROUP BY over the (hostname, timestamp) index range), so a 30-day chart over
per-minute samples moves a thousand rows out of the database instead of forty thousand.
A bucket holds the samples whose whole-second Unix time t has (t - start) // step equal to its index, where
start is the range start rounded down to a whole second.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.engine import Connection, Result
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from monitoring.catalogue import CHARTED_COLUMNS
from storage import tables
from storage.sample_rows import RESOURCE_TABLES
from storage.time_filters import in_time_range

# Detail tables returned with one sample, by the key they get in it ("system_metric_" dropped).
DETAIL_TABLES = (
    "system_metric_cpu_cores",
    "system_metric_disks",
    "system_metric_networks",
    "system_metric_gpus",
    "system_metric_gpu_processes",
    "system_metric_sensors",
    "system_metric_containers",
    "system_metric_processes",
    "system_metric_collectors",
)


def detail_key(table_name: str) -> str:
    """The key a detail table's rows get in a sample: `disks` for system_metric_disks."""
    return table_name.removeprefix("system_metric_")


# The key of each kind of resource's rows in a sample.
RESOURCE_KEYS = {kind: detail_key(table_name) for kind, table_name in RESOURCE_TABLES.items()}
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class _EpochSeconds(FunctionElement[int]):
    """Whole seconds since 1970-01-01 of a naive-UTC timestamp column, in each dialect's own words."""

    type = Integer()
    inherit_cache = True


@compiles(_EpochSeconds)
def _epoch_sqlite(element: _EpochSeconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(_EpochSeconds, "postgresql")
def _epoch_postgresql(element: _EpochSeconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(floor(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(_EpochSeconds, "mysql")
@compiles(_EpochSeconds, "mariadb")
def _epoch_mysql(element: _EpochSeconds, compiler: Any, **kw: Any) -> str:
    return f"TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {compiler.process(element.clauses, **kw)})"


class _IntegerDivision(FunctionElement[int]):
    """a // b for non-negative integers (SQLite and PostgreSQL truncate integer `/`; MySQL needs DIV)."""

    type = Integer()
    inherit_cache = True


@compiles(_IntegerDivision)
def _divide(element: _IntegerDivision, compiler: Any, **kw: Any) -> str:
    dividend, divisor = element.clauses.clauses
    return f"({compiler.process(dividend, **kw)}) / ({compiler.process(divisor, **kw)})"


@compiles(_IntegerDivision, "mysql")
@compiles(_IntegerDivision, "mariadb")
def _divide_mysql(element: _IntegerDivision, compiler: Any, **kw: Any) -> str:
    dividend, divisor = element.clauses.clauses
    return f"({compiler.process(dividend, **kw)}) DIV ({compiler.process(divisor, **kw)})"


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since 1970 of an aware time, rounded down (the bucketing's clock)."""
    return math.floor((moment - _UNIX_EPOCH).total_seconds())


def _range(statement: Any, hostname: str | None, start: datetime | None, end: datetime | None) -> Any:
    metrics = tables.system_metrics
    if hostname is not None:
        statement = statement.where(metrics.c.hostname == hostname)
    return in_time_range(statement, metrics.c.timestamp, start, end)


def list_samples(
    connection: Connection,
    hostname: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    offset: int,
    columns: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """system_metrics rows (every column, or `columns` with id, timestamp and hostname), newest first."""
    metrics = tables.system_metrics
    selected = metrics.c if columns is None else [metrics.c[name] for name in ("id", "timestamp", "hostname", *columns)]
    statement = _range(select(*selected), hostname, start, end)
    statement = statement.order_by(metrics.c.timestamp.desc(), metrics.c.id.desc()).limit(limit).offset(offset)
    return [dict(row) for row in connection.execute(statement).mappings()]


def latest_sample_id(connection: Connection, hostname: str | None) -> int | None:
    """The id of the newest sample (of `hostname`, or of any host)."""
    metrics = tables.system_metrics
    statement = _range(select(metrics.c.id), hostname, None, None)
    return connection.scalar(statement.order_by(metrics.c.timestamp.desc(), metrics.c.id.desc()).limit(1))


def sample_with_details(connection: Connection, sample_id: int) -> dict[str, Any] | None:
    """One system_metrics row with its detail rows under "cpu_cores", "disks", "networks", "gpus", ..."""
    metrics = tables.system_metrics
    row = connection.execute(select(metrics).where(metrics.c.id == sample_id)).mappings().first()
    if row is None:
        return None
    sample = dict(row)
    for table_name in DETAIL_TABLES:
        table = tables.metadata.tables[table_name]
        columns = [column for column in table.c if column.name not in ("id", "system_metric_id")]
        rows = connection.execute(select(*columns).where(table.c.system_metric_id == sample_id).order_by(table.c.id))
        sample[detail_key(table_name)] = [dict(detail) for detail in rows.mappings()]
    return sample


def buckets(
    connection: Connection,
    hostname: str | None,
    start: datetime,
    end: datetime,
    step_seconds: int,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Per host and step-long bucket of [start, end]: its start time, sample count and the average and maximum
    of each charted column (monitoring.catalogue.CHARTED_COLUMNS; None where no sample had a value), newest
    bucket first."""
    metrics = tables.system_metrics
    origin = epoch_seconds(start)
    index = _IntegerDivision(_EpochSeconds(metrics.c.timestamp) - origin, step_seconds).label("bucket")
    aggregates = [
        aggregate
        for name in CHARTED_COLUMNS
        for aggregate in (
            func.avg(metrics.c[name]).label(f"{name}__avg"),
            func.max(metrics.c[name]).label(f"{name}__max"),
        )
    ]
    statement = _range(
        select(metrics.c.hostname, index, func.count().label("samples"), *aggregates), hostname, start, end
    )
    statement = (
        statement.group_by(metrics.c.hostname, index)
        .order_by(index.desc(), metrics.c.hostname)
        .limit(limit)
        .offset(offset)
    )
    result = []
    for row in connection.execute(statement).mappings():
        point: dict[str, Any] = {
            "time": _UNIX_EPOCH + timedelta(seconds=origin + int(row["bucket"]) * step_seconds),
            "hostname": row["hostname"],
            "samples": row["samples"],
        }
        for name in CHARTED_COLUMNS:
            average = row[f"{name}__avg"]
            point[name] = {"avg": None if average is None else float(average), "max": row[f"{name}__max"]}
        result.append(point)
    return result


def host_summaries(
    connection: Connection, after_id: int | None = None, through_id: int | None = None
) -> list[dict[str, Any]]:
    """Every host with samples (of ids in (after_id, through_id], either bound open): how many, the first and the
    last one's time. A range of new ids reads only those rows (the primary key); the whole table is a full scan."""
    metrics = tables.system_metrics
    statement = select(
        metrics.c.hostname,
        func.count().label("samples"),
        func.min(metrics.c.timestamp).label("first_sample_at"),
        func.max(metrics.c.timestamp).label("last_sample_at"),
    )
    if after_id is not None:
        statement = statement.where(metrics.c.id > after_id)
    if through_id is not None:
        statement = statement.where(metrics.c.id <= through_id)
    rows = connection.execute(statement.group_by(metrics.c.hostname).order_by(metrics.c.hostname)).mappings()
    return [dict(row) for row in rows]


def counted_host_summaries(connection: Connection, through_id: int | None) -> list[dict[str, Any]]:
    """Every host with samples: how many have ids up to through_id (None: all), and the time of its first and last
    sample of all, whatever their ids. A fraction of host_summaries' cost over the whole table: the scan only
    counts, and each host's first and last time is an index seek (comparing every row's time is what costs)."""
    metrics = tables.system_metrics
    statement = select(metrics.c.hostname, func.count().label("samples"))
    if through_id is not None:
        statement = statement.where(metrics.c.id <= through_id)
    hosts = [dict(row) for row in connection.execute(statement.group_by(metrics.c.hostname)).mappings()]
    for host in hosts:
        of_host = metrics.c.hostname == host["hostname"]
        host["first_sample_at"] = connection.scalar(select(func.min(metrics.c.timestamp)).where(of_host))
        host["last_sample_at"] = connection.scalar(select(func.max(metrics.c.timestamp)).where(of_host))
    return sorted(hosts, key=lambda host: host["hostname"])


class SamplesVersion(NamedTuple):
    """What changes whenever the stored samples do, as the platform writes them: a new sample raises newest_id,
    and retention (which deletes the oldest samples) moves oldest_time. Two index seeks, whatever the table's size.
    Blind to a sample deleted from the middle, which nothing in the platform does."""

    newest_id: int | None
    oldest_time: datetime | None


# Each aggregate its own subquery: one index seek each (in one SELECT together, SQLite would scan the table).
# Built once: building the statement costs several times what running it does.
_SAMPLES_VERSION = select(
    select(func.max(tables.system_metrics.c.id)).scalar_subquery(),
    select(func.min(tables.system_metrics.c.timestamp)).scalar_subquery(),
)


def samples_version(connection: Connection) -> SamplesVersion:
    """The version of the stored samples now."""
    newest_id, oldest_time = connection.execute(_SAMPLES_VERSION).one()
    return SamplesVersion(newest_id, oldest_time)


def newest_sample_time(connection: Connection, hostname: str | None = None) -> datetime | None:
    """When the last monitoring run (of `hostname`, or of any host) took its sample."""
    return connection.scalar(_range(select(func.max(tables.system_metrics.c.timestamp)), hostname, None, None))


def _host_names(dialect_name: str) -> Any:
    """Every host with samples, as a subquery of one `hostname` column, read an index seek per host (a loose
    index scan), where a plain GROUP BY or DISTINCT reads every sample on SQLite and PostgreSQL. There it is a
    recursive CTE stepping from one name to the next; MySQL and MariaDB skip through the index for DISTINCT by
    themselves, and run that CTE fifty times slower (0.8 s for a thousand hosts)."""
    metrics = tables.system_metrics
    if dialect_name in ("mysql", "mariadb"):
        return select(metrics.c.hostname).distinct().subquery("host_names")
    after = metrics.alias("after")
    names = select(func.min(metrics.c.hostname).label("hostname")).cte("host_name_steps", recursive=True)
    following = select(func.min(after.c.hostname)).where(after.c.hostname > names.c.hostname).scalar_subquery()
    names = names.union_all(select(following).where(names.c.hostname.is_not(None)))
    return select(names.c.hostname).where(names.c.hostname.is_not(None)).subquery("host_names")


def hostnames(connection: Connection) -> list[str]:
    """Every host with samples, in one statement of an index seek per host."""
    names = _host_names(connection.dialect.name)
    return list(connection.scalars(select(names.c.hostname).order_by(names.c.hostname)))


def _newest_of_host(column: Any, names: Any, offset: int = 0) -> Any:
    """`column` of the host's newest sample (offset 1: the one before), an index seek (a correlated subquery).
    The newest one's ties in time go to the higher id, as latest_sample_id's; the one before needs no such order,
    and without it PostgreSQL reads the (hostname, timestamp) index backwards instead of sorting the host's rows."""
    metrics = tables.system_metrics.alias("newest")
    order = (metrics.c.timestamp.desc(), metrics.c.id.desc()) if offset == 0 else (metrics.c.timestamp.desc(),)
    return (
        select(metrics.c[column.name])
        .where(metrics.c.hostname == names.c.hostname)
        .order_by(*order)
        .limit(1)
        .offset(offset)
        .scalar_subquery()
    )


def plain_rows(result: Result[Any]) -> list[dict[str, Any]]:
    """The rows of `result` as dicts, at about half the cost of dict(row) over .mappings()."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


@functools.lru_cache(maxsize=16)
def _latest_statement(dialect_name: str, columns: tuple[str, ...], one_host: bool) -> Any:
    """Built once per dialect and columns: building it costs about what running it does for a thousand hosts.
    `one_host`: of the host in the bound parameter `hostname` alone."""
    metrics = tables.system_metrics
    names = select(bindparam("hostname").label("hostname")).subquery() if one_host else _host_names(dialect_name)
    newest = select(
        names.c.hostname,
        _newest_of_host(metrics.c.id, names).label("sample_id"),
        _EpochSeconds(_newest_of_host(metrics.c.timestamp, names, offset=1)).label("previous_epoch_seconds"),
    ).subquery("newest_ids")
    selected = [metrics.c[name] for name in ("id", "timestamp", "hostname", *columns)]
    return (
        select(
            *selected,
            (_EpochSeconds(metrics.c.timestamp) - newest.c.previous_epoch_seconds).label("sampled_every_seconds"),
        )
        .join_from(newest, metrics, metrics.c.id == newest.c.sample_id)
        .order_by(metrics.c.hostname)
    )


def latest_samples(
    connection: Connection, columns: tuple[str, ...], hostname: str | None = None
) -> list[dict[str, Any]]:
    """The newest sample of every host (or of `hostname`), by hostname: its id, timestamp, hostname and
    `columns`, plus `sampled_every_seconds`, the whole seconds since the sample before it (None for a host's
    first), which tells how often the host samples. One statement of a few index seeks per host, whatever the
    table's size; the seconds between the two are worked out in SQL, which spares reading a second time per host."""
    statement = _latest_statement(connection.dialect.name, columns, hostname is not None)
    return plain_rows(connection.execute(statement, {"hostname": hostname} if hostname is not None else {}))


def gpu_series(
    connection: Connection, hostname: str | None, start: datetime | None, end: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """Per-GPU rows of the newest `limit` samples in range, newest first, each with its sample's time and host."""
    metrics, gpus = tables.system_metrics, tables.system_metric_gpus
    samples = _range(select(metrics.c.id), hostname, start, end)
    samples = samples.order_by(metrics.c.timestamp.desc(), metrics.c.id.desc()).limit(limit).subquery()
    columns = [column for column in gpus.c if column.name not in ("id", "system_metric_id")]
    statement = (
        select(metrics.c.timestamp, metrics.c.hostname, *columns)
        .join(gpus, gpus.c.system_metric_id == metrics.c.id)
        .where(metrics.c.id.in_(select(samples.c.id)))
        .order_by(metrics.c.timestamp.desc(), metrics.c.id.desc(), gpus.c.gpu_index)
    )
    return [dict(row) for row in connection.execute(statement).mappings()]


# What /api/v1/metrics/containers gives of each container: its identity, state and figures, not the raw counters
# the next sample's rates start from.
CONTAINER_FIELDS = tuple(
    column.name
    for column in tables.system_metric_containers.c
    if column.name not in ("id", "system_metric_id") and not column.name.endswith("_total")
)


def container_series(
    connection: Connection, hostname: str | None, start: datetime | None, end: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """The newest `limit` samples in range that list containers, newest first: each its time, host and
    containers (CONTAINER_FIELDS, in the order the engine listed them)."""
    metrics, containers = tables.system_metrics, tables.system_metric_containers
    listing = select(containers.c.id).where(containers.c.system_metric_id == metrics.c.id).exists()
    samples = _range(select(metrics.c.id, metrics.c.timestamp, metrics.c.hostname).where(listing), hostname, start, end)
    samples = samples.order_by(metrics.c.timestamp.desc(), metrics.c.id.desc()).limit(limit)
    items = {row["id"]: {**row, "containers": []} for row in plain_rows(connection.execute(samples))}
    if items:
        statement = (
            select(containers.c.system_metric_id, *(containers.c[name] for name in CONTAINER_FIELDS))
            .where(containers.c.system_metric_id.in_(list(items)))
            .order_by(containers.c.id)
        )
        for row in plain_rows(connection.execute(statement)):
            items[row.pop("system_metric_id")]["containers"].append(row)
    return [
        {"timestamp": item["timestamp"], "hostname": item["hostname"], "containers": item["containers"]}
        for item in items.values()
    ]
