"""Runs outside a scheduler that die (`jobs run` killed with -9) are marked abandoned, by the next `jobs run`
and by the scheduler, and no longer block their job; real processes on a real SQLite file."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
import pytest
from sqlalchemy import create_engine, insert, select
from sqlalchemy.pool import NullPool

from scheduler.liveness import RUN_STALE_AFTER_SECONDS, abandon_dead_runs
from storage import init_database
from storage.database import write_transaction
from storage.tables import job_executions, jobs
from tests.conftest import MAIN
from tests.test_scheduler import environ, main_py, next_minute, query, start_scheduler, stop, wait_for

HOLD_SCRIPT = "import os, sys, time\nwhile os.path.exists(sys.argv[1]):\n    time.sleep(0.1)\nprint('done')\n"


def held_job(tmp_path: Path, url: str, cron: str = "0 4 * * *") -> tuple[dict[str, str], Path]:
    """A database with a job `held` that runs while the flag file exists; the environment and the flag."""
    env = environ(tmp_path, url)
    main_py(env, "db", "init")
    script, flag = tmp_path / "held.py", tmp_path / "hold"
    script.write_text(HOLD_SCRIPT)
    flag.touch()
    main_py(env, "jobs", "add", "held", "--cron", cron, "--script", str(script), "--args", f'["{flag}"]')
    return env, flag


# A scheduler beside it may be running a slot of the same job: only the direct run's row counts here.
MANUAL_RUNS = "SELECT status, pid FROM job_executions WHERE trigger = 'manual'"


def killed_direct_run(env: dict[str, str], url: str) -> int:
    """Start `jobs run held`, wait until its row is running, kill -9 it; the pid it had."""
    process = subprocess.Popen(
        [sys.executable, str(MAIN), "jobs", "run", "held"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: query(url, MANUAL_RUNS) == [("running", process.pid)],
            30,
            "the run to be running",
        )
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert query(url, MANUAL_RUNS) == [("running", process.pid)]  # what it leaves behind
    return process.pid


@pytest.mark.slow
def test_the_next_jobs_run_marks_a_killed_run_abandoned(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    env, flag = held_job(tmp_path, url)
    killed_direct_run(env, url)
    flag.unlink()
    second = main_py(env, "jobs", "run", "held")
    assert "held: success" in second.stdout
    rows = query(url, "SELECT status, error_message FROM job_executions ORDER BY id")
    assert rows[0][0] == "abandoned" and "its process ended" in rows[0][1]
    assert rows[1] == ("success", None)


@pytest.mark.slow
def test_the_scheduler_abandons_a_killed_run_and_runs_the_next_slot(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scheduler.db'}"
    env, flag = held_job(tmp_path, url, cron="* * * * *")
    log = tmp_path / "scheduler.log"
    scheduler = start_scheduler(env, log)
    try:
        wait_for(lambda: "started: 3 enabled job(s)" in log.read_text(), 30, "the scheduler to start")
        killed_direct_run(env, url)
        killed_at = datetime.now(timezone.utc)
        flag.unlink()
        # the first slot after the kill (a slot while the run lived was rightly skipped)
        first_slot = (
            "SELECT status FROM job_executions WHERE job_name = 'held' AND scheduled_for >= "
            f"'{next_minute(killed_at):%Y-%m-%d %H:%M:%S}' ORDER BY scheduled_for LIMIT 1"
        )
        wait_for(lambda: query(url, first_slot) == [("success",)], 90, "the next slot to run")
    finally:
        assert stop(scheduler) == 0
    assert query(url, "SELECT status FROM job_executions WHERE trigger = 'manual'") == [("abandoned",)]
    assert "marked abandoned" in log.read_text()


def test_a_reused_pid_or_a_silent_other_host_is_dead_a_live_run_is_not(tmp_path: Path) -> None:
    """Same host: a process that exists but was started after the run's heartbeat only reuses its pid. Another
    host: only the heartbeat's age tells."""
    engine = init_database(f"sqlite:///{tmp_path / 'liveness.db'}")
    now = datetime.now(timezone.utc)
    later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = datetime.fromtimestamp(psutil.Process(later.pid).create_time(), timezone.utc)
        host, stale = socket.gethostname(), now - timedelta(seconds=RUN_STALE_AFTER_SECONDS + 1)
        runs = {
            "alive": (host, later.pid, now),
            "reused pid": (host, later.pid, started - timedelta(minutes=5)),
            "other host, fresh": ("elsewhere", 1, now - timedelta(seconds=5)),
            "other host, silent": ("elsewhere", 1, stale),
        }
        with engine.begin() as connection:
            job_id = connection.execute(
                insert(jobs).values(name="j", job_type="CUSTOM", script_path="x.py", cron_expression="0 4 * * *")
            ).inserted_primary_key[0]
            for name, (hostname, pid, heartbeat_at) in runs.items():
                connection.execute(
                    insert(job_executions).values(
                        job_id=job_id,
                        job_name=name,
                        status="running",
                        trigger="manual",
                        hostname=hostname,
                        pid=pid,
                        heartbeat_at=heartbeat_at,
                    )
                )
        with write_transaction(engine) as connection:
            assert abandon_dead_runs(connection, now) == 2
        with engine.connect() as connection:
            statuses = {row.job_name: row.status for row in connection.execute(select(job_executions))}
    finally:
        later.kill()
        later.wait()
        engine.dispose()
    assert statuses == {
        "alive": "running",
        "reused pid": "abandoned",
        "other host, fresh": "running",
        "other host, silent": "abandoned",
    }


@pytest.mark.slow
def test_a_run_outside_the_scheduler_refreshes_its_heartbeat(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'beat.db'}"
    engine = create_engine(url, poolclass=NullPool)
    env, flag = held_job(tmp_path, url)
    process = subprocess.Popen([sys.executable, str(MAIN), "jobs", "run", "held"], env=env)
    try:
        wait_for(lambda: query(url, "SELECT status FROM job_executions") == [("running",)], 30, "the run")
        [(first,)] = query(url, "SELECT heartbeat_at FROM job_executions")
        wait_for(lambda: query(url, "SELECT heartbeat_at FROM job_executions") != [(first,)], 40, "a heartbeat")
    finally:
        flag.unlink()
        process.wait(timeout=30)
        engine.dispose()
    assert process.returncode == 0
