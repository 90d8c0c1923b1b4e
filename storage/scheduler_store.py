"""The scheduler's reads and writes (scheduler.service): slot claims, queued manual runs, the jobs it schedules
and the marks that tell it they changed, its instance row (registration, heartbeats, stop), the runs of
instances that are gone, and the heartbeats of runs outside a scheduler.

Each function works in the caller's connection and transaction: a tick claims all its due slots in one write
transaction, one savepoint per slot. Statements have the same shape on every call, so their compiled form is
cached."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage import tables
from storage.database import inserted_id
from storage.enums import ExecutionStatus, ExecutionTrigger

_GOING = (ExecutionStatus.RUNNING, ExecutionStatus.PENDING)
_executions = tables.job_executions
_instances = tables.scheduler_instances
_jobs = tables.jobs
# When a job runs: what the scheduler reads of an enabled job (with its name) and what the fingerprint of the
# jobs table covers (with enabled and updated_at).
_SCHEDULE_COLUMNS = (
    _jobs.c.id,
    _jobs.c.cron_expression,
    _jobs.c.timezone,
    _jobs.c.max_instances,
    _jobs.c.catch_up,
    _jobs.c.catch_up_grace_seconds,
)


# --- slots and runs -------------------------------------------------------------------------------------------


def claim_slot(connection: Connection, values: dict[str, Any]) -> int | None:
    """Insert a slot's job_executions row in a savepoint; the new id, or None when the row was refused: another
    scheduler holds the slot (the unique (job_id, scheduled_for) index) or the job is gone (its foreign key).
    Only this insert is undone then, not the other claims of the transaction."""
    try:
        with connection.begin_nested():
            return inserted_id(connection.execute(_executions.insert(), values))
    except IntegrityError:
        return None


def runs_going(connection: Connection, job_ids: list[int]) -> dict[int, int]:
    """Runs pending or running, per job, among `job_ids`."""
    return dict(
        connection.execute(
            select(_executions.c.job_id, func.count())
            .where(_executions.c.job_id.in_(job_ids), _executions.c.status.in_(_GOING))
            .group_by(_executions.c.job_id)
        )
        .tuples()
        .all()
    )


def mark_skipped(connection: Connection, execution_id: int, reason: str, now: datetime) -> None:
    """A claimed slot that will not run (too many runs of its job going)."""
    connection.execute(
        update(_executions)
        .where(_executions.c.id == execution_id)
        .values(status=ExecutionStatus.SKIPPED, completed_at=now, error_message=reason)
    )


def last_slot(connection: Connection, job_id: int) -> datetime | None:
    """The newest slot recorded for the job, whichever scheduler recorded it."""
    return connection.scalar(select(func.max(_executions.c.scheduled_for)).where(_executions.c.job_id == job_id))


def _queued_manual() -> tuple[Any, ...]:
    """Runs asked for from the dashboard that no scheduler owns yet."""
    return (
        _executions.c.status == ExecutionStatus.PENDING,
        _executions.c.owner.is_(None),
        _executions.c.trigger == ExecutionTrigger.MANUAL,
    )


def queued_manual_runs(connection: Connection) -> list[int]:
    """Ids of the queued manual runs, oldest first (found through the status index)."""
    return list(
        connection.execute(select(_executions.c.id).where(*_queued_manual()).order_by(_executions.c.id)).scalars()
    )


def take_queued_run(connection: Connection, execution_id: int, owner: str) -> bool:
    """Make `owner` the owner of a queued manual run unless another scheduler took it first; whether it did."""
    return (
        connection.execute(
            update(_executions).where(_executions.c.id == execution_id, *_queued_manual()).values(owner=owner)
        ).rowcount
        == 1
    )


def abandon_runs(connection: Connection, owners: list[str], reason: str, now: datetime) -> int:
    """Mark the pending and running runs of the given scheduler instances abandoned; how many there were."""
    return connection.execute(
        update(_executions)
        .where(_executions.c.owner.in_(owners), _executions.c.status.in_(_GOING))
        .values(status=ExecutionStatus.ABANDONED, completed_at=now, error_message=reason)
    ).rowcount


def runs_with_a_process(connection: Connection) -> list[Row[Any]]:
    """The pending and running runs that name their own process (run outside a scheduler: `jobs run`, an OS
    cron line): id, job_name, hostname, pid, heartbeat_at."""
    return list(
        connection.execute(
            select(
                _executions.c.id,
                _executions.c.job_name,
                _executions.c.hostname,
                _executions.c.pid,
                _executions.c.heartbeat_at,
            ).where(_executions.c.status.in_(_GOING), _executions.c.pid.is_not(None))
        )
    )


def abandon_executions(connection: Connection, execution_ids: list[int], reason: str, now: datetime) -> int:
    """Mark the given runs abandoned if they are still pending or running; how many were."""
    if not execution_ids:
        return 0
    return connection.execute(
        update(_executions)
        .where(_executions.c.id.in_(execution_ids), _executions.c.status.in_(_GOING))
        .values(status=ExecutionStatus.ABANDONED, completed_at=now, error_message=reason)
    ).rowcount


def record_run_heartbeat(connection: Connection, execution_id: int, now: datetime) -> None:
    """A run outside the scheduler says it is still alive."""
    connection.execute(update(_executions).where(_executions.c.id == execution_id).values(heartbeat_at=now))


# --- the jobs table -------------------------------------------------------------------------------------------


def enabled_jobs(connection: Connection) -> list[Row[Any]]:
    """Every enabled job's id, name, cron_expression, timezone, max_instances, catch_up and
    catch_up_grace_seconds."""
    return list(connection.execute(select(*_SCHEDULE_COLUMNS, _jobs.c.name).where(_jobs.c.enabled.is_(True))))


def data_version(connection: Connection) -> int:
    """SQLite's data version: it moves whenever another connection commits (any table)."""
    return int(connection.exec_driver_sql("PRAGMA data_version").scalar_one())


def jobs_fingerprint(connection: Connection) -> int:
    """A hash of every job's schedule, enabled and updated_at: it changes when a job is added, removed or
    changed."""
    columns = (*_SCHEDULE_COLUMNS, _jobs.c.enabled, _jobs.c.updated_at)
    return hash(tuple(tuple(row) for row in connection.execute(select(*columns).order_by(_jobs.c.id))))


def jobs_summary(connection: Connection) -> tuple[Any, ...]:
    """The jobs' count, newest updated_at and sum of ids: a cheap change mark where there is no data version
    (PostgreSQL, MySQL)."""
    return tuple(connection.execute(select(func.count(), func.max(_jobs.c.updated_at), func.sum(_jobs.c.id))).one())


def add_notification_once(connection: Connection, values: dict[str, Any]) -> bool:
    """Insert a notifications row unless one with the same channel, resource and message exists (a problem the
    scheduler reports once, not on every reload); whether it was inserted."""
    notifications = tables.notifications
    if (
        connection.scalar(
            select(notifications.c.id).where(
                notifications.c.channel == values["channel"],
                notifications.c.resource == values["resource"],
                notifications.c.message == values["message"],
            )
        )
        is not None
    ):
        return False
    connection.execute(notifications.insert(), values)
    return True


# --- scheduler instances --------------------------------------------------------------------------------------


def register_instance(connection: Connection, instance_id: str, hostname: str, pid: int, now: datetime) -> None:
    connection.execute(
        _instances.insert().values(id=instance_id, hostname=hostname, pid=pid, started_at=now, heartbeat_at=now)
    )


def record_heartbeat(connection: Connection, instance_id: str, now: datetime) -> None:
    connection.execute(update(_instances).where(_instances.c.id == instance_id).values(heartbeat_at=now))


def mark_stopped(connection: Connection, instance_id: str, now: datetime) -> None:
    connection.execute(
        update(_instances).where(_instances.c.id == instance_id).values(stopped_at=now, heartbeat_at=now)
    )


def scheduler_instances(connection: Connection) -> list[Row[Any]]:
    """Every scheduler instance ever registered: id, hostname, pid, heartbeat_at, stopped_at."""
    return list(
        connection.execute(
            select(
                _instances.c.id,
                _instances.c.hostname,
                _instances.c.pid,
                _instances.c.heartbeat_at,
                _instances.c.stopped_at,
            )
        )
    )
