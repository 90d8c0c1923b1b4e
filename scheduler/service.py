"""The scheduler: runs the enabled jobs of the jobs table on their cron expressions, each slot exactly once
even with several schedulers on one database, and leaves a job_executions row for every slot it handles.

- Claims: a slot is claimed by inserting its (job_id, scheduled_for) row; the unique index lets one scheduler
  win, on SQLite, PostgreSQL and MySQL alike.
- Changes to the jobs table take effect within CHANGE_POLL_SECONDS: SQLite's `PRAGMA data_version` (or, on a
  server, a count and the newest updated_at) is checked each tick; the table is read only when it changed.
- Overlap: a slot due while max_instances runs of the job are going is recorded as skipped.
- A slot found more than LATE_GRACE_SECONDS late (the machine slept, the loop was held up) is recorded as missed.
- Crash safety: each scheduler writes a heartbeat; runs left pending or running by one that stopped, died
  (same host, process gone) or fell silent for STALE_AFTER_SECONDS are marked abandoned, and so are runs of
  `jobs run` or an OS cron line whose process died (scheduler.liveness).
- Stopping (SIGTERM/SIGINT): no new runs; running ones get SCHEDULER_STOP_WAIT_SECONDS, then their process
  groups are ended and the runs recorded as cancelled.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from config import defaults
from scheduler.cron import CronError, CronSchedule, fire_times, parse_cron, system_zone, zone_named
from scheduler.executions import DEFAULT_RETRY, RetryPolicy, execution_values, run_execution
from scheduler.liveness import abandon_dead_runs, process_alive
from scheduler.prefork_client import PreforkWorker
from storage import ExecutionStatus, ExecutionTrigger, JobExecution, db
from storage.database import DatabaseUnavailable, database_failure, write_transaction
from storage.scheduler_store import (
    abandon_runs,
    add_notification_once,
    claim_slot,
    data_version,
    enabled_jobs,
    jobs_fingerprint,
    jobs_summary,
    last_slot,
    mark_skipped,
    mark_stopped,
    queued_manual_runs,
    record_heartbeat,
    register_instance,
    runs_going,
    scheduler_instances,
    take_queued_run,
)

HEARTBEAT_SECONDS = 5.0
STALE_AFTER_SECONDS = 60.0
CHANGE_POLL_SECONDS = 1.0
LATE_GRACE_SECONDS = 60.0
DATABASE_RETRY_SECONDS = 5.0
CHANNEL = "scheduler"
DATABASE_DOWN = (DBAPIError, DatabaseUnavailable)  # what the loop waits out instead of ending

log = logging.getLogger("automation.scheduler")


class LoadedJob(NamedTuple):
    id: int
    name: str
    schedule: CronSchedule
    max_instances: int
    catch_up: str
    catch_up_grace_seconds: int


MAX_CATCH_UP_SLOTS = 100_000
FIRE_TIMES_BATCH = 32
MAX_SIMULTANEOUS_RUNS = 1024


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _reconnect(connection: Connection | None) -> Connection | None:
    """A fresh watch connection after a database error (the old one may be dead); None while it cannot."""
    if connection is not None:
        connection.invalidate()
        connection.close()
    try:
        return db.engine.connect()
    except DATABASE_DOWN:
        return None


def _slots_between(schedule: CronSchedule, after: datetime, until: datetime) -> list[datetime]:
    """Fire times after `after` up to and including `until`, in UTC (at most MAX_CATCH_UP_SLOTS)."""
    slots: list[datetime] = []
    start = after
    while len(slots) < MAX_CATCH_UP_SLOTS:
        batch = [moment.astimezone(timezone.utc) for moment in fire_times(schedule, start, 500)]
        slots += [moment for moment in batch if moment <= until]
        if not batch or batch[-1] > until:
            return slots
        start = batch[-1]
    log.warning("more than %d slots missed; only the first are recorded", MAX_CATCH_UP_SLOTS)
    return slots


class Scheduler:
    def __init__(
        self,
        zone_name: str | None,
        stop_wait_seconds: float = defaults.SCHEDULER_STOP_WAIT_SECONDS,
        retry: RetryPolicy = DEFAULT_RETRY,
        prefork: bool = True,
    ):
        self.zone = zone_named(zone_name) if zone_name else system_zone()
        self.instance_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stop = threading.Event()
        self._stop_requested = False  # set by request_stop, from a signal handler
        self._cancel = threading.Event()
        self._stop_wait_seconds = stop_wait_seconds
        self._retry = retry
        # One thread per running run, started on demand: how many run at once is bounded by the jobs'
        # max_instances, not by the pool, which must never make a due run wait for another to finish.
        self._pool = ThreadPoolExecutor(max_workers=MAX_SIMULTANEOUS_RUNS, thread_name_prefix="job")
        self._running: set[Future] = set()
        self._jobs: dict[int, LoadedJob] = {}
        self._next_due: dict[int, datetime] = {}
        # fire times computed ahead: (schedule, computed after, the times)
        self._upcoming: dict[int, tuple[CronSchedule, datetime, deque[datetime]]] = {}
        self._change_mark: object = None
        self._data_version: object = None
        self._watch: Connection | None = None
        self._worker = PreforkWorker() if prefork and PreforkWorker.available() else None

    # --- the loop -------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Schedule until `stop` is set, then wind down."""
        now = utc_now()
        self._register(now)
        self._abandon_orphans(now)
        self._watch = db.engine.connect()
        if self._worker is not None:
            self._worker.start()  # its imports happen now, not when the first monitoring slot is due
        self._reload_jobs(now)
        self._catch_up(now)
        log.info("Scheduler %s started: %d enabled job(s), zone %s", self.instance_id, len(self._jobs), self.zone.key)
        next_heartbeat = now + timedelta(seconds=HEARTBEAT_SECONDS)
        try:
            while not self.stop.is_set():
                if self._stop_requested:
                    self.stop.set()
                    break
                try:
                    next_heartbeat = self._tick(next_heartbeat)
                except DATABASE_DOWN as error:  # a database restart must not end the scheduler
                    log.warning(
                        "database unavailable (%s); retrying in %.0f s", database_failure(error), DATABASE_RETRY_SECONDS
                    )
                    self._watch = _reconnect(self._watch)
                    self.stop.wait(DATABASE_RETRY_SECONDS)
        finally:
            self._wind_down()

    def request_stop(self) -> None:
        """Stop within CHANGE_POLL_SECONDS; safe in a signal handler, which `stop.set()` is not: Event.set takes
        the lock that Event.wait holds while the main thread waits, and a signal landing there deadlocks."""
        self._stop_requested = True

    def _tick(self, next_heartbeat: datetime) -> datetime:
        """One pass: pick up job changes, handle due slots, beat; then sleep until the next slot or poll."""
        now = utc_now()
        if self._jobs_changed():
            self._reload_jobs(now)
        due = sorted(((slot, job_id) for job_id, slot in self._next_due.items() if slot <= now))
        if due and not self.stop.is_set():
            self._handle_slots([(self._jobs[job_id], slot) for slot, job_id in due], now)
            for slot, job_id in due:
                self._advance(job_id, slot)
        self._take_queued_runs()
        if now >= next_heartbeat:
            self._heartbeat(now)
            self._abandon_orphans(now)
            next_heartbeat = now + timedelta(seconds=HEARTBEAT_SECONDS)
        self._running = {future for future in self._running if not future.done()}
        soonest = min(self._next_due.values(), default=now + timedelta(seconds=CHANGE_POLL_SECONDS))
        self.stop.wait(max(0.0, min((soonest - utc_now()).total_seconds(), CHANGE_POLL_SECONDS)))
        return next_heartbeat

    def _advance(self, job_id: int, after: datetime) -> None:
        job = self._jobs.get(job_id)
        if job is not None:
            self._next_due[job_id] = self._next_fire_time(job, after)

    def _next_fire_time(self, job: LoadedJob, after: datetime) -> datetime:
        """The job's first fire time after `after`, in UTC. Fire times are computed FIRE_TIMES_BATCH at a time:
        each computation scans hours around daylight-saving changes, too slow to repeat for every slot."""
        schedule, computed_after, queue = self._upcoming.get(job.id, (None, after, deque()))
        if schedule != job.schedule or after < computed_after or not queue or queue[-1] <= after:
            queue = deque(
                moment.astimezone(timezone.utc) for moment in fire_times(job.schedule, after, FIRE_TIMES_BATCH)
            )
            self._upcoming[job.id] = (job.schedule, after, queue)
        while queue[0] <= after:
            queue.popleft()
        return queue[0]

    # --- downtime -----------------------------------------------------------------------------------------

    def _catch_up(self, now: datetime) -> None:
        """Slots that came due while no scheduler ran (after each job's newest recorded slot, before the last
        LATE_GRACE_SECONDS, which the loop takes) become missed rows or catch-up runs, by the job's policy:
        skip records them all as missed, latest runs the newest once, all runs each; a slot older than the
        job's catch_up_grace_seconds is only recorded. Runs of one job go one after another."""
        horizon = now - timedelta(seconds=LATE_GRACE_SECONDS)
        for job in self._jobs.values():
            last = self._last_slot(job.id)
            if last is None:
                continue
            missed = _slots_between(job.schedule, last, horizon)
            runnable = {"skip": [], "latest": missed[-1:], "all": missed}.get(job.catch_up, missed[-1:])
            runnable = [slot for slot in runnable if (now - slot).total_seconds() <= job.catch_up_grace_seconds]
            queued = []
            for slot in missed:
                if slot in runnable:
                    execution_id = self._claim(job, slot, ExecutionStatus.PENDING, ExecutionTrigger.CATCH_UP)
                    queued += [execution_id] if execution_id is not None else []
                else:
                    self._claim(job, slot, ExecutionStatus.MISSED)
            if missed:
                log.warning(
                    "job %s: %d slot(s) passed while no scheduler ran; %d to run now (catch_up=%s)",
                    job.name,
                    len(missed),
                    len(queued),
                    job.catch_up,
                )
            if queued:
                self._running.add(self._pool.submit(self._run_in_order, queued))
            self._next_due[job.id] = self._next_fire_time(job, max(last, horizon))

    def _last_slot(self, job_id: int) -> datetime | None:
        with db.engine.connect() as connection:
            return last_slot(connection, job_id)

    def _run_in_order(self, execution_ids: list[int]) -> None:
        for execution_id in execution_ids:
            if self._cancel.is_set():
                self._finish(execution_id, ExecutionStatus.CANCELLED, "cancelled: the scheduler stopped")
            else:
                self._run(execution_id)

    # --- slots --------------------------------------------------------------------------------------------

    def _handle_slots(self, due: list[tuple[LoadedJob, datetime]], now: datetime) -> None:
        """Claim a tick's due slots in one write transaction, then start their runs. With many jobs due at
        the same minute, one commit instead of one per slot (each waiting for SQLite's write lock behind the
        runs already started) keeps the last slot of the minute on time."""
        claimed: list[tuple[LoadedJob, datetime, int]] = []
        with write_transaction(db.engine) as connection:
            busy = runs_going(connection, [job.id for job, _ in due])
            if any(busy.get(job.id, 0) >= job.max_instances for job, _ in due) and abandon_dead_runs(connection, now):
                busy = runs_going(connection, [job.id for job, _ in due])  # a dead run outside it held a job up
            for job, slot in due:
                late = (now - slot).total_seconds() > LATE_GRACE_SECONDS
                execution_id = self._claim_in(
                    connection,
                    job,
                    slot,
                    ExecutionStatus.MISSED if late else ExecutionStatus.PENDING,
                    ExecutionTrigger.SCHEDULE,
                )
                if execution_id is None:
                    continue
                if late:
                    log.warning(
                        "job %s: slot %s missed (found %.0f s late)",
                        job.name,
                        slot.isoformat(),
                        (now - slot).total_seconds(),
                    )
                elif busy.get(job.id, 0) >= job.max_instances:
                    mark_skipped(connection, execution_id, "the previous run was still running", utc_now())
                    log.warning(
                        "job %s: slot %s skipped, the previous run is still running", job.name, slot.isoformat()
                    )
                else:
                    claimed.append((job, slot, execution_id))
        for job, slot, execution_id in claimed:
            self._running.add(self._pool.submit(self._run, execution_id))
            log.info("job %s: slot %s claimed (execution %d)", job.name, slot.isoformat(), execution_id)

    def _take_queued_runs(self) -> None:
        """Runs asked for from the dashboard wait as pending manual rows without an owner; the scheduler that
        makes itself their owner (a conditional update) runs them, whatever the job's max_instances."""
        assert self._watch is not None
        queued = queued_manual_runs(self._watch)
        self._watch.rollback()
        if not queued:
            return
        with write_transaction(db.engine) as connection:
            taken = [
                execution_id for execution_id in queued if take_queued_run(connection, execution_id, self.instance_id)
            ]
        for execution_id in taken:
            self._running.add(self._pool.submit(self._run, execution_id))
            log.info("execution %d: a manual run, taken from the queue", execution_id)

    def _claim(
        self,
        job: LoadedJob,
        slot: datetime,
        status: ExecutionStatus,
        trigger: ExecutionTrigger = ExecutionTrigger.SCHEDULE,
    ) -> int | None:
        """The new execution's id, or None when another scheduler already claimed this slot."""
        with write_transaction(db.engine) as connection:
            return self._claim_in(connection, job, slot, status, trigger)

    def _claim_in(
        self, connection: Connection, job: LoadedJob, slot: datetime, status: ExecutionStatus, trigger: ExecutionTrigger
    ) -> int | None:
        """Claim the slot within the caller's transaction (a savepoint of its own): None when another scheduler
        holds it or the job is gone."""
        values = execution_values(job.id, job.name, trigger, slot, self.instance_id, status)
        if status is ExecutionStatus.MISSED:
            values |= {"completed_at": utc_now(), "error_message": "its time passed while no scheduler could run it"}
        return claim_slot(connection, values)

    def _run(self, execution_id: int) -> None:
        try:
            run = run_execution(execution_id, cancel=self._cancel, retry=self._retry, worker=self._worker)
            log.info("execution %d of %s: %s", execution_id, run.job_name, run.status.value)
        except Exception:  # a broken run must not take the scheduler down; it is recorded below
            log.exception("execution %d failed to run", execution_id)
            self._finish(execution_id, ExecutionStatus.FAILED, "the scheduler could not run it (see its log)")

    def _finish(self, execution_id: int, status: ExecutionStatus, reason: str) -> None:
        with db.session_scope(writes=True) as session:
            execution = session.get(JobExecution, execution_id)
            if execution is not None:
                execution.status, execution.error_message = status, reason
                execution.completed_at = utc_now()

    # --- the jobs table -----------------------------------------------------------------------------------

    def _jobs_changed(self) -> bool:
        """Cheap on every tick: SQLite's data_version moves on any commit by another connection (this
        scheduler's own run records too), so only then are the jobs' scheduling columns fingerprinted."""
        if self._watch is None:
            self._watch = db.engine.connect()
        if self._watch.dialect.name == "sqlite":
            version = data_version(self._watch)
            mark = self._change_mark if version == self._data_version else jobs_fingerprint(self._watch)
            self._data_version = version
        else:
            mark = jobs_summary(self._watch)
        self._watch.rollback()  # no read transaction left open: the next check must see new commits
        changed, self._change_mark = mark != self._change_mark, mark
        return changed

    def _reload_jobs(self, now: datetime) -> None:
        jobs: dict[int, LoadedJob] = {}
        with write_transaction(db.engine) as connection:  # it may record a job's error
            for job in enabled_jobs(connection):
                known = self._jobs.get(job.id)
                try:
                    zone = zone_named(job.timezone) if job.timezone else self.zone
                    if (
                        known is not None
                        and known.schedule.expression == job.cron_expression
                        and known.schedule.zone == zone
                    ):
                        schedule = known.schedule
                    else:
                        schedule = parse_cron(job.cron_expression, zone)
                except CronError as error:
                    self._record_job_error(connection, job.name, str(error))
                    continue
                jobs[job.id] = LoadedJob(
                    job.id, job.name, schedule, max(job.max_instances or 1, 1), job.catch_up, job.catch_up_grace_seconds
                )
        for job_id, loaded in jobs.items():
            if job_id not in self._next_due or self._jobs[job_id].schedule != loaded.schedule:
                self._next_due[job_id] = self._next_fire_time(loaded, now)
        for job_id in set(self._next_due) - set(jobs):
            del self._next_due[job_id]
            self._upcoming.pop(job_id, None)
        if set(jobs) != set(self._jobs) or any(self._jobs[key] != job for key, job in jobs.items()):
            log.info("jobs reloaded: %d enabled", len(jobs))
        self._jobs = jobs

    @staticmethod
    def _record_job_error(connection: Connection, job_name: str, error: str) -> None:
        """A job the scheduler cannot schedule: one notifications row per job and expression, not one a tick."""
        message = f"job {job_name} is not scheduled: {error}"
        if add_notification_once(
            connection,
            {
                "title": f"[ERROR] job {job_name} cannot be scheduled",
                "message": message,
                "level": "ERROR",
                "channel": CHANNEL,
                "success": True,
                "metric": "cron_expression",
                "resource": job_name,
            },
        ):
            log.error("%s", message)

    # --- instances, heartbeats, orphans ---------------------------------------------------------------------

    def _register(self, now: datetime) -> None:
        with db.engine.begin() as connection:
            register_instance(connection, self.instance_id, socket.gethostname(), os.getpid(), now)

    def _heartbeat(self, now: datetime) -> None:
        with db.engine.begin() as connection:
            record_heartbeat(connection, self.instance_id, now)

    def _abandon_orphans(self, now: datetime) -> None:
        """Runs of schedulers that stopped, died on this host, or went silent, are not coming back; nor are runs
        outside a scheduler whose process died (scheduler.liveness)."""
        host = socket.gethostname()
        with write_transaction(db.engine) as connection:
            gone = [
                row.id
                for row in scheduler_instances(connection)
                if row.id != self.instance_id
                and (
                    row.stopped_at is not None
                    or row.heartbeat_at < now - timedelta(seconds=STALE_AFTER_SECONDS)
                    or (row.hostname == host and not process_alive(row.pid, row.heartbeat_at))
                )
            ]
            abandoned = (
                abandon_runs(connection, gone, "its scheduler stopped before the run finished", now) if gone else 0
            )
            if abandoned:
                log.warning("%d run(s) of stopped schedulers marked abandoned", abandoned)
            abandon_dead_runs(connection, now)

    def _wind_down(self) -> None:
        """Give running jobs the stop wait (SCHEDULER_STOP_WAIT_SECONDS), then end them (recorded as cancelled)."""
        running = {future for future in self._running if not future.done()}
        if running:
            log.info("stopping: waiting up to %.0f s for %d running job(s)", self._stop_wait_seconds, len(running))
            _, still_running = wait(running, timeout=self._stop_wait_seconds)
            if still_running:
                self._cancel.set()
                wait(still_running)
        self._pool.shutdown(wait=True)
        if self._worker is not None:
            self._worker.close()
        with db.engine.begin() as connection:
            mark_stopped(connection, self.instance_id, utc_now())
        if self._watch is not None:
            self._watch.close()
        log.info("Scheduler %s stopped", self.instance_id)
