"""Running a job once and recording it in job_executions: the command a job stands for, its environment,
and the row that says what happened (running while it runs, then success, failed or timeout).

A job's process gets the scheduler's environment without the platform's secrets (scheduler.job_environment), and:
AUTOMATION_JOB_NAME, AUTOMATION_JOB_EXECUTION_ID, AUTOMATION_TRIGGER (schedule, manual, catch-up, os-cron)
and AUTOMATION_SCHEDULED_FOR (ISO 8601, empty for a manual run). It runs in the project root.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

from config import defaults
from config.fields import ConfigError
from config.job_settings import load_job_settings
from config.paths import PROJECT_ROOT
from pipeline.command import EXECUTION_ID_VARIABLE
from scheduler.job_environment import inherited_environment
from scheduler.liveness import RunHeartbeat, abandon_dead_runs
from scheduler.prefork_client import PreforkWorker
from scheduler.runner import ProcessHandle, RunOutcome, run_process
from storage import ExecutionStatus, ExecutionTrigger, Job, JobExecution, JobType, db
from storage.database import write_transaction
from storage.metrics_store import insert_notification
from storage.scheduler_queries import MONITOR_FAILURE_CHANNEL, MONITOR_FAILURE_METRIC

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MONITOR_SCRIPT = PROJECT_ROOT / "scripts" / "monitoring" / "system_monitor.py"
MONITOR_MODULE = "pipeline.command"  # what the pre-forked worker runs (the script's own command)
REASON_MAX_CHARS = 500
log = logging.getLogger("automation.scheduler")


class JobDefinitionError(ValueError):
    """A job row that cannot be run as written (bad script_args, missing script); str() is one line."""


class RetryPolicy(NamedTuple):
    """Exponential backoff between attempts: base, 2 x base, 4 x base ... at most cap."""

    base_seconds: float = defaults.SCHEDULER_RETRY_BASE_SECONDS
    cap_seconds: float = defaults.SCHEDULER_RETRY_MAX_SECONDS

    def delay_seconds(self, retry_number: int) -> float:
        return min(self.base_seconds * 2 ** (retry_number - 1), self.cap_seconds)


DEFAULT_RETRY = RetryPolicy()


class JobCommand(NamedTuple):
    argv: list[str]
    arguments: list[str]  # script_args, the tail of argv
    module: str | None  # a module a pre-imported worker can run instead of argv (the monitor's), if any


def job_command(job: Job) -> JobCommand:
    """The command of a job: the monitor for MONITORING jobs, else script_path (a .py file with this
    interpreter, anything else as an executable) followed by script_args (a JSON list of strings)."""
    arguments = _arguments(job)
    if job.job_type is JobType.MONITORING:
        return JobCommand([sys.executable, str(MONITOR_SCRIPT), *arguments], arguments, MONITOR_MODULE)
    if not job.script_path:
        raise JobDefinitionError(f"job {job.name!r} has no script_path")
    script = Path(job.script_path)
    script = script if script.is_absolute() else PROJECT_ROOT / script
    program = [sys.executable, str(script)] if script.suffix == ".py" else [str(script)]
    return JobCommand([*program, *arguments], arguments, None)


def _arguments(job: Job) -> list[str]:
    if not job.script_args:
        return []
    try:
        arguments = json.loads(job.script_args)
    except ValueError:
        arguments = None
    if not isinstance(arguments, list) or not all(isinstance(item, str) for item in arguments):
        raise JobDefinitionError(
            f"job {job.name!r} has script_args={job.script_args!r}; expected a JSON list of "
            f'strings such as ["--days", "7"]'
        )
    return arguments


def execute_job(
    job_id: int, trigger: ExecutionTrigger, scheduled_for: datetime | None = None, retry: RetryPolicy = DEFAULT_RETRY
) -> JobExecution:
    """Run the job now in this process (`jobs run`, an OS cron run), recording the run; the returned row is
    detached and complete. Its owner names this process, so no scheduler takes the row as a queued run; its pid
    and heartbeat let a later run or a scheduler see that it died (scheduler.liveness), and runs that did so
    are marked abandoned first."""
    with write_transaction(db.engine) as connection:
        abandon_dead_runs(connection, datetime.now(timezone.utc))
    execution_id = _record_run(
        job_id, trigger, scheduled_for, f"direct:{socket.gethostname()}:{os.getpid()}", pid=os.getpid()
    )
    if execution_id is None:
        raise JobDefinitionError(f"no job with id {job_id}")
    with RunHeartbeat(execution_id):
        return run_execution(execution_id, retry=retry)


def queue_manual_run(job_id: int) -> int | None:
    """Ask the schedulers to run the job now ("Run now" in the dashboard): a pending manual row without an
    owner, which the first scheduler to see it takes and runs. The new execution's id, or None for no such job."""
    return _record_run(job_id, ExecutionTrigger.MANUAL, None, owner=None)


def _record_run(
    job_id: int, trigger: ExecutionTrigger, scheduled_for: datetime | None, owner: str | None, pid: int | None = None
) -> int | None:
    with db.session_scope(writes=True) as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        execution = new_execution(job, trigger, scheduled_for, owner)
        if pid is not None:
            execution.pid, execution.heartbeat_at = pid, datetime.now(timezone.utc)
        session.add(execution)
        session.flush()
        return int(execution.id)


def new_execution(
    job: Job,
    trigger: ExecutionTrigger,
    scheduled_for: datetime | None,
    owner: str | None,
    status: ExecutionStatus = ExecutionStatus.PENDING,
) -> JobExecution:
    return JobExecution(**execution_values(job.id, job.name, trigger, scheduled_for, owner, status))


def execution_values(
    job_id: int,
    job_name: str,
    trigger: ExecutionTrigger,
    scheduled_for: datetime | None,
    owner: str | None,
    status: ExecutionStatus = ExecutionStatus.PENDING,
) -> dict[str, object]:
    """The columns of a new job_executions row (for the ORM and for Core inserts alike)."""
    return {
        "job_id": job_id,
        "job_name": job_name,
        "status": status,
        "trigger": trigger,
        "scheduled_for": scheduled_for,
        "hostname": socket.gethostname(),
        "platform": sys.platform,
        "retry_count": 0,
        "owner": owner,
    }


def run_execution(
    execution_id: int,
    cancel: threading.Event | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    worker: PreforkWorker | None = None,
) -> JobExecution:
    """Run a recorded (pending) execution of its job: running while it runs, then its outcome. A failed run is
    retried up to the job's max_retries times (a timed-out one only with retry_timeouts); the row keeps the
    last attempt's output, every attempt's error and retry_count. With a `worker`, a monitoring run is forked
    from it instead of starting a new interpreter."""
    with db.session_scope() as session:  # reads only: no write lock is waited for before the process starts
        execution = session.get(JobExecution, execution_id)
        job = session.get(Job, execution.job_id) if execution and execution.job_id else None
        if execution is None or job is None:
            raise JobDefinitionError(f"execution {execution_id} has no job to run")
        definition_error, inherited = "", {}
        try:
            command: JobCommand | None = job_command(job)
            inherited = inherited_environment(job.name, job.job_type, job.script_path, load_job_settings(), os.environ)
        except (JobDefinitionError, ConfigError) as error:  # a bad job row, or a .env changed since the start
            command, definition_error = None, str(error)
        scheduled_for, timeout_seconds = execution.scheduled_for, job.timeout_seconds
        max_retries, retry_timeouts = job.max_retries or 0, job.retry_timeouts
        job_name, monitoring = job.name, job.job_type is JobType.MONITORING
        environment = {
            **inherited,
            "PYTHONUNBUFFERED": "1",
            "AUTOMATION_JOB_NAME": job.name,
            EXECUTION_ID_VARIABLE: str(execution_id),
            "AUTOMATION_TRIGGER": execution.trigger.value,
            "AUTOMATION_SCHEDULED_FOR": scheduled_for.isoformat() if scheduled_for else "",
        }
    started_at = datetime.now(timezone.utc)
    if command is None:
        return _finish_without_running(execution_id, started_at, definition_error)

    def mark_running() -> None:
        """Written once the process has started, so a tick's many runs start before they queue for the lock."""
        with db.session_scope(writes=True) as session:
            execution = session.get(JobExecution, execution_id)
            if execution is not None and execution.status is ExecutionStatus.PENDING:
                execution.status, execution.started_at = ExecutionStatus.RUNNING, started_at

    starter = None
    module = command.module
    if worker is not None and module is not None:

        def starter(stdout: IO[bytes], stderr: IO[bytes]) -> ProcessHandle | None:
            child = worker.spawn(module, command.arguments, str(PROJECT_ROOT), environment, stdout, stderr)
            if child is not None:
                log.debug("execution %d: forked from the pre-imported worker as pid %d", execution_id, child.pid)
            return child

    earlier_errors: list[str] = []
    while True:
        outcome = run_process(
            command.argv,
            cwd=str(PROJECT_ROOT),
            env=environment,
            timeout_seconds=timeout_seconds or None,
            cancel=cancel,
            starter=starter,
            on_start=mark_running,
        )
        retryable = outcome.status is ExecutionStatus.FAILED or (
            outcome.status is ExecutionStatus.TIMEOUT and retry_timeouts
        )
        if not retryable or len(earlier_errors) >= max_retries:
            break
        earlier_errors.append(f"attempt {len(earlier_errors) + 1}: {outcome.error_message}")
        delay = retry.delay_seconds(len(earlier_errors))
        _note_retry(execution_id, len(earlier_errors), f"{earlier_errors[-1]}; retrying in {delay:g} s")
        if cancel is None:
            time.sleep(delay)
        elif cancel.wait(delay):
            break  # stopping: the last attempt's outcome stands
    with db.session_scope(writes=True) as session:
        execution = session.get(JobExecution, execution_id)
        assert execution is not None
        execution.status, execution.exit_code = outcome.status, outcome.exit_code
        execution.started_at, execution.completed_at = started_at, outcome.completed_at
        execution.duration_seconds = (outcome.completed_at - started_at).total_seconds()
        execution.stdout, execution.stderr = outcome.stdout, outcome.stderr
        execution.retry_count = len(earlier_errors)
        errors = earlier_errors + (
            [f"attempt {len(earlier_errors) + 1}: {outcome.error_message}"]
            if earlier_errors and outcome.error_message
            else []
        )
        execution.error_message = "; ".join(errors) if earlier_errors else outcome.error_message
        if monitoring and outcome.status in (ExecutionStatus.FAILED, ExecutionStatus.TIMEOUT):
            _record_monitor_failure(session, execution_id, job_name, outcome)
        return execution


def _record_monitor_failure(session: Session, execution_id: int, job_name: str, outcome: RunOutcome) -> None:
    """A failed monitoring run leaves a notifications row (channel scheduler, level ERROR) with its reason in
    one line, written here because the run may have failed before it knew a database (a bad .env); the health
    check reports it until a sample is saved again."""
    insert_notification(
        session.connection(),
        {
            "title": f"[ERROR] the monitoring job {job_name} failed",
            "message": failure_reason(outcome),
            "level": "ERROR",
            "channel": MONITOR_FAILURE_CHANNEL,
            "metric": MONITOR_FAILURE_METRIC,
            "resource": job_name,
            "host": socket.gethostname(),
            "job_execution_id": execution_id,
            "success": True,
        },
    )


def failure_reason(outcome: RunOutcome) -> str:
    """The run's last line on stderr (a configuration error, a traceback's exception) and how it ended."""
    lines = [line.strip() for line in outcome.stderr.splitlines() if line.strip()]
    parts = [lines[-1][:REASON_MAX_CHARS]] if lines else []
    return "; ".join([*parts, outcome.error_message or outcome.status.value])


def _note_retry(execution_id: int, retry_count: int, message: str) -> None:
    """While waiting for the next attempt, the row says why (still `running`)."""
    with db.session_scope(writes=True) as session:
        execution = session.get(JobExecution, execution_id)
        if execution is not None:
            execution.retry_count, execution.error_message = retry_count, message


def _finish_without_running(execution_id: int, started_at: datetime, reason: str) -> JobExecution:
    with db.session_scope(writes=True) as session:
        execution = session.get(JobExecution, execution_id)
        assert execution is not None
        execution.status, execution.error_message = ExecutionStatus.FAILED, reason
        execution.started_at = execution.completed_at = started_at
        execution.duration_seconds = 0.0
        return execution
