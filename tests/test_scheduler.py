"""The scheduler as real processes: every slot exactly once with three schedulers on one database (SQLite and
PostgreSQL), jobs table changes picked up within 2 s, SIGTERM cancels, kill -9 leaves runs marked abandoned.

Cron has minute resolution, so these tests wait for real minute boundaries (about a minute each).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import MAIN, clean_environ
from tests.db_servers import SERVERS

pytestmark = pytest.mark.postgresql


def environ(tmp: Path, url: str, **settings: str) -> dict[str, str]:
    env_file = tmp / f"{abs(hash(url))}.env"
    env_file.write_text(
        "".join(
            f"{key}={value}\n"
            for key, value in {
                "DATABASE_URL": url,
                "LOG_FILE": "off",
                "SCHEDULER_TIMEZONE": "UTC",
                "DASHBOARD_ENABLED": "false",
                "JOBS_ALLOWED_DIRS": str(tmp),  # the tests' job scripts live there
                **settings,
            }.items()
        )
    )
    return {**clean_environ(), "AUTOMATION_ENV_FILE": str(env_file), "PYTHONUNBUFFERED": "1"}


def main_py(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, str(MAIN), *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def start_scheduler(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(MAIN), "run"], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=str(log.parent)
    )


def query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def next_minute(after: datetime) -> datetime:
    return (after + timedelta(minutes=1)).replace(second=0, microsecond=0)


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


@contextmanager
def sqlite_and_postgresql(tmp_path: Path) -> Iterator[list[str]]:
    with SERVERS["postgresql"].fresh_database() as postgresql_url:
        yield [f"sqlite:///{tmp_path / 'scheduler.db'}", postgresql_url]


def queue_manual_runs(url: str, job_name: str, count: int) -> None:
    """What "Run now" in the dashboard leaves for the schedulers: pending manual rows without an owner."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            job_id = connection.execute(text("SELECT id FROM jobs WHERE name = :name"), {"name": job_name}).scalar()
            insert = text(
                "INSERT INTO job_executions (job_id, job_name, status, trigger, retry_count) "
                "VALUES (:id, :name, 'pending', 'manual', 0)"
            )
            for _ in range(count):
                connection.execute(insert, {"id": job_id, "name": job_name})
    finally:
        engine.dispose()


@pytest.mark.slow
def test_three_schedulers_run_every_slot_exactly_once(tmp_path: Path) -> None:
    """...and every queued manual run exactly once, and their monitoring runs are forked from each scheduler's
    pre-imported worker."""
    script = tmp_path / "tick.py"
    script.write_text(
        "import os, sys, time\n"
        "with open(sys.argv[1], 'a') as runs:\n"
        "    runs.write(os.environ['AUTOMATION_JOB_EXECUTION_ID'] + '\\n')\n"
        "time.sleep(0.5)\nprint('ran', os.environ['AUTOMATION_SCHEDULED_FOR'])\n"
    )
    with sqlite_and_postgresql(tmp_path) as urls, ExitStack() as stack:
        schedulers: dict[str, list[subprocess.Popen]] = {}
        for url in urls:
            env = environ(tmp_path, url, LOG_LEVEL="DEBUG")
            main_py(env, "db", "init")
            main_py(env, "jobs", "edit", "system_monitoring", "--cron", "* * * * *")
            main_py(
                env,
                "jobs",
                "add",
                "tick",
                "--cron",
                "* * * * *",
                "--script",
                str(script),
                f'--args=["{tmp_path / f"runs-{len(schedulers)}.log"}"]',
            )
            schedulers[url] = [start_scheduler(env, tmp_path / f"s{len(schedulers)}-{index}.log") for index in range(3)]
            for process in schedulers[url]:
                stack.callback(lambda process=process: process.poll() is None and process.kill())
        time.sleep(3)  # all six are up
        for url in urls:
            queue_manual_runs(url, "tick", 5)
        first_slot = next_minute(datetime.now(timezone.utc))
        wait_for(lambda: datetime.now(timezone.utc) > first_slot + timedelta(seconds=8), 75, "a slot to pass")
        assert all(stop(process) == 0 for processes in schedulers.values() for process in processes)
        for number, url in enumerate(urls):
            queued = query(url, "SELECT id, status, owner FROM job_executions WHERE trigger = 'manual'")
            assert len(queued) == 5 and all(status == "success" and owner for _, status, owner in queued), queued
            started = (tmp_path / f"runs-{number}.log").read_text().split()
            assert sorted(started.count(str(row[0])) for row in queued) == [1] * 5, started  # none twice
            runs = query(
                url,
                "SELECT scheduled_for, status, trigger, stdout, owner FROM job_executions "
                "WHERE job_name = 'tick' AND trigger = 'schedule' ORDER BY scheduled_for",
            )
            slots = [row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0]) for row in runs]
            assert first_slot.replace(tzinfo=None) in [slot.replace(tzinfo=None) for slot in slots], (url, runs)
            assert len(slots) == len(set(slots)), f"a slot ran twice: {runs}"
            for _, status, trigger, stdout, owner in runs:
                assert (status, trigger) == ("success", "schedule") and stdout.startswith("ran ") and owner
            monitoring = query(
                url, "SELECT id, scheduled_for, status, stdout FROM job_executions WHERE job_name = 'system_monitoring'"
            )
            assert monitoring and len({row[1] for row in monitoring}) == len(monitoring), monitoring
            assert all(row[2] == "success" and "SYSTEM MONITORING REPORT" in row[3] for row in monitoring)
            logs = "".join(path.read_text() for path in tmp_path.glob(f"s{number}-*.log"))
            assert all(f"execution {row[0]}: forked from the pre-imported worker" in logs for row in monitoring)


@pytest.mark.slow
def test_sigterm_cancels_a_running_job_and_kill_9_leaves_it_abandoned(tmp_path: Path) -> None:
    """Two databases, one minute: on the first the scheduler is killed with SIGKILL mid-run and the next
    scheduler marks the run abandoned; on the second SIGTERM ends the run after the stop wait: cancelled."""
    pid_file = tmp_path / "job.pid"
    script = tmp_path / "long.py"
    script.write_text(
        f"import os, sys, time\nopen({str(pid_file)!r} + '.' + sys.argv[1], 'w')"
        f".write(str(os.getpid()))\ntime.sleep(300)\n"
    )
    killed_url, stopped_url = f"sqlite:///{tmp_path / 'killed.db'}", f"sqlite:///{tmp_path / 'stopped.db'}"
    envs = {url: environ(tmp_path, url, SCHEDULER_STOP_WAIT_SECONDS="1") for url in (killed_url, stopped_url)}
    for env, label in zip(envs.values(), ("killed", "stopped"), strict=True):
        main_py(env, "db", "init")
        main_py(env, "jobs", "disable", "system_monitoring")
        main_py(
            env,
            "jobs",
            "add",
            "long",
            "--cron",
            "* * * * *",
            "--script",
            str(script),
            "--timeout",
            "600",
            f'--args=["{label}"]',
        )
    killed = start_scheduler(envs[killed_url], tmp_path / "killed.log")
    stopped = start_scheduler(envs[stopped_url], tmp_path / "stopped.log")
    try:
        wait_for(
            lambda: len([path for path in tmp_path.glob("job.pid.*") if path.read_text()]) == 2,
            75,
            "both long jobs to start",
        )
        time.sleep(0.5)
        jobs = {path.name: psutil.Process(int(path.read_text())) for path in tmp_path.glob("job.pid.*")}
        killed.kill()
        killed.wait(timeout=10)
        assert stop(stopped) == 0
        gone, alive = psutil.wait_procs(list(jobs.values()), timeout=15)
        assert not alive, "a job outlived its scheduler"
        assert query(stopped_url, "SELECT status, error_message FROM job_executions WHERE job_name = 'long'") == [
            ("cancelled", "cancelled: the scheduler stopped")
        ]
        assert query(killed_url, "SELECT status FROM job_executions WHERE job_name = 'long'") == [("running",)]
        successor = start_scheduler(envs[killed_url], tmp_path / "successor.log")
        wait_for(
            lambda: (
                query(killed_url, "SELECT status FROM job_executions WHERE job_name = 'long' ORDER BY id LIMIT 1")
                == [("abandoned",)]
            ),
            20,
            "the run marked abandoned",
        )
        assert stop(successor) == 0
    finally:
        for process in (killed, stopped):
            if process.poll() is None:
                process.kill()


def started_with_the_builtin_job(tmp_path: Path, url: str) -> tuple[dict[str, str], Path, subprocess.Popen]:
    """A fresh database with only the built-in jobs, and a scheduler that has loaded them."""
    env = environ(tmp_path, url)
    main_py(env, "db", "init")
    log = tmp_path / "scheduler.log"
    scheduler = start_scheduler(env, log)
    wait_for(lambda: "started: 2 enabled job(s)" in log.read_text(), 30, "the scheduler to start")
    return env, log, scheduler


@pytest.mark.slow
def test_a_job_added_with_sql_is_picked_up_within_two_seconds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'changes.db'}"
    _, log, scheduler = started_with_the_builtin_job(tmp_path, url)
    try:
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO jobs (name, job_type, script_path, cron_expression, enabled, timeout_seconds, "
                    "max_retries, max_instances, created_at, updated_at) VALUES ('added', 'CUSTOM', 'x.py', "
                    "'0 4 * * *', 1, 60, 0, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            connection.execute(text("UPDATE jobs SET cron_expression = '0 0 31 2 *' WHERE name = 'system_monitoring'"))
        engine.dispose()
        added_at = time.monotonic()
        wait_for(lambda: "jobs reloaded: 2 enabled" in log.read_text().split("started:", 1)[1], 5, "the reload")
        assert time.monotonic() - added_at <= 2.5
        wait_for(lambda: "job system_monitoring is not scheduled" in log.read_text(), 5, "the cron error")
        time.sleep(2.5)  # several more ticks: the error is recorded once
        assert query(url, "SELECT count(*) FROM notifications WHERE channel = 'scheduler'") == [(1,)]
    finally:
        assert stop(scheduler) == 0
    assert os.path.exists(tmp_path / "changes.db")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("policy", "grace", "caught_up", "missed"),
    [
        ("skip", "3600", 0, 5),
        ("latest", "3600", 1, 4),
        ("all", "3600", 5, 0),
        ("latest", "60", 0, 5),  # the newest missed slot is over a minute old
    ],
)
def test_slots_missed_while_no_scheduler_ran(
    tmp_path: Path, policy: str, grace: str, caught_up: int, missed: int
) -> None:
    """The last recorded slot is 6 minutes back. The 5 slots after it that are over a minute old belong to the
    catch-up (missed rows, or catch-up runs by policy); the current minute's slot is the loop's own."""
    url = f"sqlite:///{tmp_path / 'downtime.db'}"
    env = environ(tmp_path, url)
    main_py(env, "db", "init")
    main_py(env, "jobs", "disable", "system_monitoring")
    script = tmp_path / "quick.py"
    script.write_text("print('caught up')\n")
    main_py(
        env,
        "jobs",
        "add",
        "every-minute",
        "--cron",
        "* * * * *",
        "--script",
        str(script),
        "--catch-up",
        policy,
        "--catch-up-grace",
        grace,
    )
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    last = now - timedelta(minutes=6)
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO job_executions (job_id, job_name, status, "trigger", scheduled_for, '
                "retry_count) SELECT id, name, 'success', 'schedule', :slot, 0 FROM jobs "
                "WHERE name = 'every-minute'"
            ),
            {"slot": last.replace(tzinfo=None)},
        )
    engine.dispose()
    since = last.replace(tzinfo=None).isoformat(sep=" ")

    def recorded() -> list[tuple]:
        return query(
            url,
            'SELECT scheduled_for, status, "trigger" FROM job_executions '
            f"WHERE job_name = 'every-minute' AND scheduled_for > '{since}' ORDER BY scheduled_for",
        )

    scheduler = start_scheduler(env, tmp_path / "scheduler.log")
    try:
        wait_for(
            lambda: len(recorded()) >= 6 and all(row[1] in ("missed", "success", "skipped") for row in recorded()),
            30,
            "the catch-up rows and the current slot's run",
        )
    finally:
        assert stop(scheduler) == 0
    rows = recorded()
    if datetime.now(timezone.utc) - now > timedelta(minutes=1):
        pytest.skip("a minute boundary passed during the test; the slot counts would be off by one")
    slots = [datetime.fromisoformat(row[0]).replace(tzinfo=timezone.utc) for row in rows]
    assert slots == [last + timedelta(minutes=minute) for minute in range(1, 7)], rows
    catch_up_rows = [row for row in rows if row[2] == "catch-up"]
    assert [row[1] for row in catch_up_rows] == ["success"] * caught_up
    assert sum(row[1] == "missed" for row in rows) == missed
    if policy == "latest" and caught_up:
        assert catch_up_rows[0][0] == rows[4][0]  # the newest of the missed slots
    # The current minute's slot is late but within grace: it runs, unless catch-up runs were still going
    # (max_instances 1), and then it is recorded as skipped.
    assert rows[5][2] == "schedule"
    assert rows[5][1] in (("success", "skipped") if caught_up else ("success",))


@pytest.mark.slow
def test_the_scheduler_outlives_a_dropped_database_connection(tmp_path: Path) -> None:
    """PostgreSQL ends every connection of the scheduler (as a server restart would): it logs, reconnects and
    carries on picking up job changes."""
    with SERVERS["postgresql"].fresh_database() as url:
        env, log, scheduler = started_with_the_builtin_job(tmp_path, url)
        try:
            database = url.rsplit("/", 1)[1]
            query(
                url,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{database}' AND pid <> pg_backend_pid()",
            )
            wait_for(lambda: "database unavailable" in log.read_text(), 15, "the scheduler to notice")
            main_py(env, "jobs", "disable", "system_monitoring")
            wait_for(lambda: "jobs reloaded: 1 enabled" in log.read_text(), 20, "the change after reconnecting")
        finally:
            assert stop(scheduler) == 0
