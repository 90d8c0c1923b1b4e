"""Jobs the platform brings with it, registered by `main.py db init` when absent, and by the first start of the
scheduler on a database without jobs (then the user's to edit)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from storage import JobType
from storage.job_queries import insert_job, job_id_named, never_had_jobs

SYSTEM_MONITORING = dict(
    name="system_monitoring",
    description="System resource monitoring",
    job_type=JobType.MONITORING,
    script_path="scripts/monitoring/system_monitor.py",
    cron_expression="*/5 * * * *",
    enabled=True,
    timeout_seconds=60,
)


DATA_RETENTION = dict(
    name="data_retention",
    description="Deletes history older than the RETENTION_* settings (python main.py db prune)",
    job_type=JobType.CLEANUP,
    script_path="main.py",
    script_args='["db", "prune"]',
    cron_expression="17 3 * * *",
    enabled=True,
    timeout_seconds=3600,
)


def register_builtin_jobs(connection: Connection) -> list[str]:
    """Add each built-in job whose name is not taken; returns the names added. An existing row is never
    changed, so a user's edits (another schedule, disabled) survive every `db init`."""
    added = []
    for values in (SYSTEM_MONITORING, DATA_RETENTION):
        if job_id_named(connection, str(values["name"])) is None:
            insert_job(connection, values)
            added.append(str(values["name"]))
    return added


def register_on_first_start(connection: Connection) -> list[str]:
    """The built-in jobs for a database that never had a job, so `python main.py` on a fresh install monitors
    without a `db init` first; a database whose jobs were all removed stays as the user left it."""
    return register_builtin_jobs(connection) if never_had_jobs(connection) else []
