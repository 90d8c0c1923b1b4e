"""The jobs table and run history for the dashboard and the `jobs` commands: jobs with their last run, pages of
runs, and job rows written from values already checked (scheduler.job_service)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from storage import tables
from storage.database import inserted_id
from storage.enums import ExecutionStatus

# A run's captured output can be large: pages of runs leave it out, one run carries it.
_OUTPUT_COLUMNS = ("stdout", "stderr")


def list_jobs(connection: Connection) -> list[dict[str, Any]]:
    jobs = tables.jobs
    return [dict(row) for row in connection.execute(select(jobs).order_by(jobs.c.name)).mappings()]


def job(connection: Connection, job_id: int) -> dict[str, Any] | None:
    return _job_where(connection, tables.jobs.c.id == job_id)


def job_named(connection: Connection, name: str) -> dict[str, Any] | None:
    return _job_where(connection, tables.jobs.c.name == name)


def _job_where(connection: Connection, condition: ColumnElement[bool]) -> dict[str, Any] | None:
    row = connection.execute(select(tables.jobs).where(condition)).mappings().first()
    return None if row is None else dict(row)


def job_id_named(connection: Connection, name: str) -> int | None:
    return connection.scalar(select(tables.jobs.c.id).where(tables.jobs.c.name == name))


def never_had_jobs(connection: Connection) -> bool:
    """No job defined and none ever run: a database nobody has set up yet (a removed job leaves its runs)."""
    return (
        connection.scalar(select(tables.jobs.c.id).limit(1)) is None
        and connection.scalar(select(tables.job_executions.c.id).limit(1)) is None
    )


def insert_job(connection: Connection, values: dict[str, Any]) -> int:
    return inserted_id(connection.execute(insert(tables.jobs).values(**values)))


def update_job(connection: Connection, job_id: int, values: dict[str, Any]) -> bool:
    """Whether the job exists (it is changed if so)."""
    jobs = tables.jobs
    return connection.execute(update(jobs).where(jobs.c.id == job_id).values(**values)).rowcount > 0


def delete_job(connection: Connection, job_id: int) -> bool:
    """Whether the job existed; its runs stay, unlinked (ON DELETE SET NULL)."""
    jobs = tables.jobs
    return connection.execute(delete(jobs).where(jobs.c.id == job_id)).rowcount > 0


def last_runs(connection: Connection) -> dict[int, dict[str, Any]]:
    """Each job's newest run (without its output), by job id."""
    executions = tables.job_executions
    newest = select(func.max(executions.c.id)).where(executions.c.job_id.is_not(None)).group_by(executions.c.job_id)
    statement = select(*_summary_columns()).where(executions.c.id.in_(newest))
    return {row["job_id"]: dict(row) for row in connection.execute(statement).mappings()}


def _summary_columns() -> list[Any]:
    return [column for column in tables.job_executions.c if column.name not in _OUTPUT_COLUMNS]


def list_executions(
    connection: Connection, job_id: int | None, status: ExecutionStatus | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Runs newest first, without their output."""
    executions = tables.job_executions
    statement = select(*_summary_columns())
    if job_id is not None:
        statement = statement.where(executions.c.job_id == job_id)
    if status is not None:
        statement = statement.where(executions.c.status == status)
    statement = statement.order_by(executions.c.id.desc()).limit(limit).offset(offset)
    return [dict(row) for row in connection.execute(statement).mappings()]


def execution(connection: Connection, execution_id: int) -> dict[str, Any] | None:
    """One run with its output."""
    executions = tables.job_executions
    row = connection.execute(select(executions).where(executions.c.id == execution_id)).mappings().first()
    return None if row is None else dict(row)


def runs_by_status(connection: Connection) -> list[tuple[str, str, int]]:
    """(job name, status, runs) over the whole history."""
    executions = tables.job_executions
    statement = select(executions.c.job_name, executions.c.status, func.count()).group_by(
        executions.c.job_name, executions.c.status
    )
    return [(name, status.value, count) for name, status, count in connection.execute(statement)]


def last_successes(connection: Connection) -> dict[str, datetime]:
    """When each job's newest successful run completed, by job name."""
    executions = tables.job_executions
    statement = (
        select(executions.c.job_name, func.max(executions.c.completed_at))
        .where(executions.c.status == ExecutionStatus.SUCCESS)
        .group_by(executions.c.job_name)
    )
    return {name: completed for name, completed in connection.execute(statement) if completed is not None}
