"""Runs started from the dashboard ("Run now", POST /jobs/{id}/execute): the same pending job_executions row
and the same runner as `python main.py jobs run` (scheduler.executions), run on a thread of this process so the
request answers at once with the run's id.

Under `python main.py run` the rows carry the scheduler's instance id as owner, so if the process dies
mid-run, the other schedulers mark the run abandoned as they do for scheduled runs. On shutdown, running
runs get the scheduler's stop wait, then are ended and recorded as cancelled.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from scheduler.executions import RetryPolicy, new_execution, run_execution
from storage import ExecutionStatus, ExecutionTrigger, Job, JobExecution, db

log = logging.getLogger("automation.dashboard")
MAX_SIMULTANEOUS_RUNS = 8


class ManualRuns:
    def __init__(self, retry: RetryPolicy, owner: str | None = None) -> None:
        self._retry = retry
        self._owner = owner
        self._cancel = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=MAX_SIMULTANEOUS_RUNS, thread_name_prefix="manual-run")
        self._running: set[Future] = set()

    def start(self, job_id: int) -> int | None:
        """Record a pending manual run of the job and start it; its execution id, or None for no such job."""
        with db.session_scope(writes=True) as session:
            job = session.get(Job, job_id)
            if job is None:
                return None
            execution = new_execution(job, ExecutionTrigger.MANUAL, None, owner=self._owner)
            session.add(execution)
            session.flush()
            execution_id = int(execution.id)
        self._running = {future for future in self._running if not future.done()}
        self._running.add(self._pool.submit(self._run, execution_id))
        return execution_id

    def _run(self, execution_id: int) -> None:
        try:
            run = run_execution(execution_id, cancel=self._cancel, retry=self._retry)
            log.info("manual execution %d of %s: %s", execution_id, run.job_name, run.status.value)
        except Exception:  # recorded below; the server carries on
            log.exception("manual execution %d failed to run", execution_id)
            with db.session_scope(writes=True) as session:
                execution = session.get(JobExecution, execution_id)
                if execution is not None and execution.status in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING):
                    execution.status = ExecutionStatus.FAILED
                    execution.error_message = "the dashboard could not run it (see its log)"

    def close(self, wait_seconds: float) -> None:
        """Give running runs `wait_seconds`, then end them (run_execution records them cancelled)."""
        running = {future for future in self._running if not future.done()}
        if running:
            _, still_running = wait(running, timeout=wait_seconds)
            if still_running:
                self._cancel.set()
        self._pool.shutdown(wait=True)
