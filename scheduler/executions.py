"""Running a job once and recording it in job_executions: the command a job stands for, its environment,
and the row that says what happened (running while it runs, then success, failed or timeout).

A job's process gets, besides the platform's environment:
AUTOMATION_JOB_NAME, AUTOMATION_JOB_EXECUTION_ID, AUTOMATION_TRIGGER (schedule, manual, catch-up, os-cron)
and AUTOMATION_SCHEDULED_FOR (ISO 8601, empty for a manual run). It runs in the project root.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

from config.paths import PROJECT_ROOT
from scheduler.runner import run_process
from scripts.monitoring.system_monitor import EXECUTION_ID_VARIABLE
from storage import ExecutionStatus, ExecutionTrigger, Job, JobExecution, JobType, db

MONITOR_SCRIPT = PROJECT_ROOT / "scripts" / "monitoring" / "system_monitor.py"


class JobDefinitionError(ValueError):
    """A job row that cannot be run as written (bad script_args, missing script); str() is one line."""


def job_argv(job: Job) -> list[str]:
    """The command of a job: the monitor for MONITORING jobs, else script_path (a .py file with this
    interpreter, anything else as an executable) followed by script_args (a JSON list of strings)."""
    if job.job_type is JobType.MONITORING:
        return [sys.executable, str(MONITOR_SCRIPT), *_arguments(job)]
    if not job.script_path:
        raise JobDefinitionError(f"job {job.name!r} has no script_path")
    script = Path(job.script_path)
    script = script if script.is_absolute() else PROJECT_ROOT / script
    program = [sys.executable, str(script)] if script.suffix == ".py" else [str(script)]
    return [*program, *_arguments(job)]


def _arguments(job: Job) -> list[str]:
    if not job.script_args:
        return []
    try:
        arguments = json.loads(job.script_args)
    except ValueError:
        arguments = None
    if not isinstance(arguments, list) or not all(isinstance(item, str) for item in arguments):
        raise JobDefinitionError(f"job {job.name!r} has script_args={job.script_args!r}; expected a JSON list of "
                                 f'strings such as ["--days", "7"]')
    return arguments


def execute_job(job_id: int, trigger: ExecutionTrigger, scheduled_for: datetime | None = None) -> JobExecution:
    """Run the job now (a manual or OS cron run), recording the run; the returned row is detached and complete."""
    with db.session_scope(writes=True) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise JobDefinitionError(f"no job with id {job_id}")
        execution = new_execution(job, trigger, scheduled_for, owner=None)
        session.add(execution)
        session.flush()
        execution_id = execution.id
    return run_execution(execution_id)


def new_execution(job: Job, trigger: ExecutionTrigger, scheduled_for: datetime | None, owner: str | None,
                  status: ExecutionStatus = ExecutionStatus.PENDING) -> JobExecution:
    return JobExecution(job_id=job.id, job_name=job.name, status=status, trigger=trigger,
                        scheduled_for=scheduled_for, hostname=socket.gethostname(), platform=sys.platform,
                        retry_count=0, owner=owner)


def run_execution(execution_id: int, cancel: threading.Event | None = None) -> JobExecution:
    """Run a recorded (pending) execution of its job: running while it runs, then its outcome."""
    with db.session_scope(writes=True) as session:
        execution = session.get(JobExecution, execution_id)
        job = session.get(Job, execution.job_id) if execution and execution.job_id else None
        if execution is None or job is None:
            raise JobDefinitionError(f"execution {execution_id} has no job to run")
        execution.status, execution.started_at = ExecutionStatus.RUNNING, datetime.now(timezone.utc)
        try:
            argv = job_argv(job)
        except JobDefinitionError as error:
            _finish_without_running(execution, str(error))
            return execution
        scheduled_for, timeout_seconds = execution.scheduled_for, job.timeout_seconds
        environment = {**os.environ, "PYTHONUNBUFFERED": "1", "AUTOMATION_JOB_NAME": job.name,
                       EXECUTION_ID_VARIABLE: str(execution_id), "AUTOMATION_TRIGGER": execution.trigger.value,
                       "AUTOMATION_SCHEDULED_FOR": scheduled_for.isoformat() if scheduled_for else ""}
    outcome = run_process(argv, cwd=str(PROJECT_ROOT), env=environment, timeout_seconds=timeout_seconds or None,
                          cancel=cancel)
    with db.session_scope(writes=True) as session:
        execution = session.get(JobExecution, execution_id)
        assert execution is not None
        execution.status, execution.exit_code = outcome.status, outcome.exit_code
        execution.started_at, execution.completed_at = outcome.started_at, outcome.completed_at
        execution.duration_seconds = outcome.duration_seconds
        execution.stdout, execution.stderr = outcome.stdout, outcome.stderr
        execution.error_message = outcome.error_message
        return execution


def _finish_without_running(execution: JobExecution, reason: str) -> None:
    execution.status, execution.error_message = ExecutionStatus.FAILED, reason
    execution.completed_at, execution.duration_seconds = execution.started_at, 0.0
