"""Reading stored samples back: pages of rows, the newest sample with its details, and time buckets.

Bucketing runs in SQL (one GROUP BY over the (hostname, timestamp) index range), so a 30-day chart over
per-minute samples moves a thousand rows out of the database instead of forty thousand.
A bucket holds the samples whose whole-second Unix time t has (t - start) // step equal to its index, where
start is the range start rounded down to a whole second.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Integer, func, select
from sqlalchemy.engine import Connection
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


def host_summaries(connection: Connection) -> list[dict[str, Any]]:
    """Every host with samples: how many, the first and the last one's time."""
    metrics = tables.system_metrics
    rows = connection.execute(
        select(
            metrics.c.hostname,
            func.count().label("samples"),
            func.min(metrics.c.timestamp).label("first_sample_at"),
            func.max(metrics.c.timestamp).label("last_sample_at"),
        )
        .group_by(metrics.c.hostname)
        .order_by(metrics.c.hostname)
    ).mappings()
    return [dict(row) for row in rows]


def newest_sample_time(connection: Connection, hostname: str | None = None) -> datetime | None:
    """When the last monitoring run (of `hostname`, or of any host) took its sample."""
    return connection.scalar(_range(select(func.max(tables.system_metrics.c.timestamp)), hostname, None, None))


def hostnames(connection: Connection) -> list[str]:
    """Every host with samples, one index seek per host (a loose index scan) instead of a full scan."""
    metrics = tables.system_metrics
    found: list[str] = []
    name = connection.scalar(select(func.min(metrics.c.hostname)))
    while name is not None:
        found.append(name)
        name = connection.scalar(select(func.min(metrics.c.hostname)).where(metrics.c.hostname > name))
    return found


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
