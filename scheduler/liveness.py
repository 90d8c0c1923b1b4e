"""Runs started outside a scheduler (`jobs run`, an OS cron line) that died: a killed process leaves its row
`running`, and the scheduler would skip every later slot of the job as overlapping.

Such a run records its process id and refreshes heartbeat_at every RUN_HEARTBEAT_SECONDS while it lives. It is
dead when, on this host, its process is gone (or the pid now belongs to a process started after the run's
last heartbeat), or, on another host, its heartbeat is older than RUN_STALE_AFTER_SECONDS. The scheduler
(at start and with each of its heartbeats) and `jobs run` (before it starts) mark dead runs abandoned.
"""

from __future__ import annotations

import logging
import socket
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import psutil
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from storage import db
from storage.database import DatabaseUnavailable, database_failure
from storage.scheduler_store import abandon_executions, record_run_heartbeat, runs_with_a_process

RUN_HEARTBEAT_SECONDS = 15.0
RUN_STALE_AFTER_SECONDS = 120.0  # eight missed heartbeats: a busy database, not a dead run, is the likelier cause
_CLOCK_SLACK_SECONDS = 1.0  # psutil's create time comes from boot time and clock ticks, not the wall clock
ABANDONED_REASON = "its process ended before the run finished (killed, or the machine restarted)"

log = logging.getLogger("automation.scheduler")


def process_alive(pid: int, heartbeat_at: datetime | None) -> bool:
    """The process `pid` runs, and is the one that wrote `heartbeat_at`: a process created after that moment
    only reuses the pid of the dead one."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        created = process.create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # it exists; whose it is cannot be told
    return heartbeat_at is None or created <= heartbeat_at.timestamp() + _CLOCK_SLACK_SECONDS


def run_is_dead(run: Any, host: str, now: datetime) -> bool:
    """`run` has hostname, pid and heartbeat_at (runs_with_a_process)."""
    if run.hostname == host:
        return not process_alive(run.pid, run.heartbeat_at)
    return run.heartbeat_at is None or run.heartbeat_at < now - timedelta(seconds=RUN_STALE_AFTER_SECONDS)


def abandon_dead_runs(connection: Connection, now: datetime) -> int:
    """Mark the dead runs outside a scheduler abandoned, in the caller's (write) transaction; how many."""
    host = socket.gethostname()
    dead = [run for run in runs_with_a_process(connection) if run_is_dead(run, host, now)]
    abandoned = abandon_executions(connection, [run.id for run in dead], ABANDONED_REASON, now)
    for run in dead:
        log.warning(
            "execution %d of %s: process %d on %s is gone; marked abandoned",
            run.id,
            run.job_name,
            run.pid,
            run.hostname,
        )
    return abandoned


class RunHeartbeat:
    """While the block runs, a daemon thread refreshes the run's heartbeat_at every RUN_HEARTBEAT_SECONDS.
    A failed write is logged and tried again at the next beat: the run itself goes on."""

    def __init__(self, execution_id: int, every_seconds: float = RUN_HEARTBEAT_SECONDS) -> None:
        self._execution_id = execution_id
        self._every_seconds = every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"run-heartbeat-{execution_id}", daemon=True)

    def __enter__(self) -> RunHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._every_seconds):
            try:
                with db.engine.begin() as connection:
                    record_run_heartbeat(connection, self._execution_id, datetime.now(timezone.utc))
            except (DBAPIError, DatabaseUnavailable) as error:
                log.warning("execution %d: heartbeat not recorded: %s", self._execution_id, database_failure(error))
