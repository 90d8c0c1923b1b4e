"""Deleting history older than the retention settings (`main.py db prune`, run daily by the built-in
data_retention job).

Rows go in batches of BATCH_ROWS, each batch its own short write transaction, so that a monitor run or a
scheduler's claim waits for SQLite's write lock about one batch, never a whole year of rows. On SQLite the
prune also pauses SQLITE_PAUSE_SECONDS between batches: a waiting writer polls for the lock (every 100 ms once
it has waited a while), and a prune that took the lock again at once would starve it. A batch first
deletes or unlinks the rows that point at the doomed ones (sample details, deliveries; the notifications that
name a sample, run or incident keep their text and lose the link), so the result is the same with or without
the foreign keys (a database adopted from the seed platform has none on its old tables).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Table, delete, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from config.retention_settings import RetentionSettings
from storage import tables
from storage.database import write_transaction
from storage.enums import ExecutionStatus

BATCH_ROWS = 2000
SQLITE_PAUSE_SECONDS = 0.1
_UNFINISHED = (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)


# (table, rows to delete, rows deleted so far): called before a table's first batch and after each batch.
Progress = Callable[[str, int, int], None]


class Pruned(NamedTuple):
    table: str
    rows: int  # deleted (or, in a dry run, that would be)
    older_than: datetime | None  # None: kept forever (its RETENTION_* setting is off)
    setting: str


class _Plan(NamedTuple):
    table: Table
    condition: Callable[[datetime], ColumnElement[bool]]
    setting: str
    days: int | None
    dependents: Callable[[Connection, list[int]], None]


def prune(
    engine: Engine,
    retention: RetentionSettings,
    now: datetime,
    dry_run: bool = False,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> list[Pruned]:
    """Delete (or with `dry_run` count) what each retention setting says is too old, table by table; `progress`
    (a terminal's progress bar) hears of every batch, at the cost of counting each table's rows first."""
    results = []
    for plan in _plans(retention):
        if plan.days is None:
            results.append(Pruned(plan.table.name, 0, None, plan.setting))
            continue
        cutoff = now - timedelta(days=plan.days)
        condition = plan.condition(cutoff)
        if dry_run:
            rows = _count(engine, plan.table, condition)
        else:
            report = None
            if progress is not None:
                report = partial(progress, plan.table.name, _count(engine, plan.table, condition))
                report(0)
            rows = delete_in_batches(engine, plan.table, condition, plan.dependents, batch_rows, report)
        results.append(Pruned(plan.table.name, rows, cutoff, plan.setting))
    return results


def _plans(retention: RetentionSettings) -> list[_Plan]:
    metrics, notifications, incidents = tables.system_metrics, tables.notifications, tables.alert_incidents
    silences, executions, instances = tables.alert_silences, tables.job_executions, tables.scheduler_instances
    return [
        _Plan(
            metrics,
            lambda cutoff: metrics.c.timestamp < cutoff,
            "RETENTION_METRICS_DAYS",
            retention.metrics_days,
            drop_sample_details,
        ),
        _Plan(  # the gaps agents reported are about samples: they go with the samples of their time
            tables.host_gaps,
            lambda cutoff: tables.host_gaps.c.last_collected_at < cutoff,
            "RETENTION_METRICS_DAYS",
            retention.metrics_days,
            _nothing,
        ),
        _Plan(
            notifications,
            lambda cutoff: notifications.c.sent_at < cutoff,
            "RETENTION_NOTIFICATIONS_DAYS",
            retention.notifications_days,
            drop_deliveries,
        ),
        _Plan(
            incidents,
            lambda cutoff: (incidents.c.status == "ok") & (incidents.c.resolved_at < cutoff),
            "RETENTION_NOTIFICATIONS_DAYS",
            retention.notifications_days,
            unlinker(notifications.c.incident_id),
        ),
        _Plan(
            silences,
            lambda cutoff: or_(silences.c.removed_at < cutoff, silences.c.until < cutoff),
            "RETENTION_NOTIFICATIONS_DAYS",
            retention.notifications_days,
            _nothing,
        ),
        _Plan(
            executions,
            lambda cutoff: executions.c.status.not_in(_UNFINISHED) & (executions.c.completed_at < cutoff),
            "RETENTION_JOB_EXECUTIONS_DAYS",
            retention.job_executions_days,
            unlinker(notifications.c.job_execution_id),
        ),
        _Plan(
            instances,
            lambda cutoff: instances.c.heartbeat_at < cutoff,
            "RETENTION_JOB_EXECUTIONS_DAYS",
            retention.job_executions_days,
            _nothing,
        ),
    ]


def _count(engine: Engine, table: Table, condition: ColumnElement[bool]) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table).where(condition)) or 0)


def delete_in_batches(
    engine: Engine,
    table: Table,
    condition: ColumnElement[bool],
    dependents: Callable[[Connection, list[Any]], None],
    batch_rows: int = BATCH_ROWS,
    report: Callable[[int], None] | None = None,
) -> int:
    """Delete the rows of `table` that meet `condition`, `batch_rows` at a time, each batch with its `dependents`
    in a write transaction of its own; how many were deleted."""
    key = table.primary_key.columns.values()[0]
    pause_seconds = SQLITE_PAUSE_SECONDS if engine.dialect.name == "sqlite" else 0.0
    deleted = 0
    while True:
        with write_transaction(engine) as connection:
            batch = list(connection.scalars(select(key).where(condition).order_by(key).limit(batch_rows)))
            if batch:
                dependents(connection, batch)
                connection.execute(delete(table).where(key.in_(batch)))
        deleted += len(batch)
        if report is not None:
            report(deleted)
        if len(batch) < batch_rows:
            return deleted
        time.sleep(pause_seconds)  # the lock is free: a waiting writer gets its turn


def drop_sample_details(connection: Connection, sample_ids: list[Any]) -> None:
    for table in tables.metadata.sorted_tables:
        if table.name.startswith("system_metric_"):
            connection.execute(delete(table).where(table.c.system_metric_id.in_(sample_ids)))
    unlinker(tables.notifications.c.system_metric_id)(connection, sample_ids)


def drop_deliveries(connection: Connection, notification_ids: list[Any]) -> None:
    deliveries = tables.notification_deliveries
    connection.execute(delete(deliveries).where(deliveries.c.notification_id.in_(notification_ids)))


def unlinker(column: Any) -> Callable[[Connection, list[Any]], None]:
    """Set `column` to NULL where it names one of the doomed rows."""

    def unlink(connection: Connection, ids: list[Any]) -> None:
        connection.execute(update(column.table).where(column.in_(ids)).values({column.name: None}))

    return unlink


def _nothing(_connection: Connection, _ids: list[Any]) -> None:
    """Nothing points at these rows."""
