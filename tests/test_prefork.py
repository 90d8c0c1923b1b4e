"""The pre-imported worker: monitoring runs forked from it behave like fresh processes (output, exit code,
environment, working directory, own process group, timeouts) and it never outlives or blocks its scheduler."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from scheduler.executions import MONITOR_MODULE, MONITOR_SCRIPT, run_execution
from scheduler.prefork_client import PreforkWorker
from scheduler.runner import run_process
from storage import ExecutionStatus, ExecutionTrigger, Job, JobType, db, init_database
from tests.conftest import ROOT, Workspace

pytestmark = pytest.mark.skipif(not PreforkWorker.available(), reason="fork and descriptor passing are POSIX only")


@pytest.fixture
def worker(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[PreforkWorker]:
    monkeypatch.setenv("AUTOMATION_ENV_FILE", str(workspace.env_file))  # the worker's warm-up reads it
    started = PreforkWorker()
    started.start()
    yield started
    started.close()


def run_monitor(
    worker: PreforkWorker, workspace: Workspace, *arguments: str, timeout_seconds: float = 60, **environment: str
):  # type: ignore[no-untyped-def]
    env = workspace.environ(**environment)
    children = []

    def starter(stdout, stderr):  # type: ignore[no-untyped-def]
        children.append(worker.spawn(MONITOR_MODULE, list(arguments), str(workspace.path), env, stdout, stderr))
        return children[-1]

    outcome = run_process(
        [sys.executable, str(MONITOR_SCRIPT), *arguments],
        cwd=str(workspace.path),
        env=env,
        timeout_seconds=timeout_seconds,
        starter=starter,
    )
    return outcome, children[0]


def test_a_forked_run_is_a_complete_monitoring_run(worker: PreforkWorker, workspace: Workspace) -> None:
    outcome, child = run_monitor(worker, workspace, "--json")
    assert child is not None and child.pid != worker.pid
    assert outcome.status is ExecutionStatus.SUCCESS and outcome.exit_code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert document["cpu"]["percent"] is not None and document["id"] >= 1
    connection = sqlite3.connect(workspace.database)
    try:
        assert connection.execute("SELECT count(*) FROM system_metrics").fetchone() == (1,)
    finally:
        connection.close()


@pytest.mark.parametrize("how", ["environment", "relative --env-file"])
def test_the_child_gets_the_request_environment_and_directory(
    worker: PreforkWorker, workspace: Workspace, how: str
) -> None:
    """The child reads the .env the request names (by variable, or by a path relative to the request's working
    directory), not the worker's: its configuration error says so."""
    other = workspace.path / "other.env"
    other.write_text("MONITOR_TOP_PROCESSES=many\n")
    if how == "environment":
        outcome, _ = run_monitor(worker, workspace, "--no-save", AUTOMATION_ENV_FILE=str(other))
    else:
        outcome, _ = run_monitor(worker, workspace, "--no-save", "--env-file", "other.env")
    assert outcome.status is ExecutionStatus.FAILED and outcome.exit_code == 2
    assert outcome.stderr.strip() == (
        "configuration error: MONITOR_TOP_PROCESSES='many' is invalid; expected a whole number from 0 to 100"
    )


def test_a_timeout_ends_a_forked_run(worker: PreforkWorker, workspace: Workspace) -> None:
    """With no database and --no-save the monitor samples rates over 0.25 s: longer than the timeout. The
    child is ended through its process group, so it must have one of its own."""
    outcome, child = run_monitor(worker, workspace, "--no-save", timeout_seconds=0.1)
    assert outcome.status is ExecutionStatus.TIMEOUT and outcome.exit_code == -signal.SIGTERM
    assert not psutil.pid_exists(child.pid) or psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE


def test_a_dead_worker_is_replaced(worker: PreforkWorker, workspace: Workspace) -> None:
    first = worker.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    psutil.Process(first).wait(timeout=10)
    outcome, child = run_monitor(worker, workspace, "--quiet")
    assert outcome.status is ExecutionStatus.SUCCESS, outcome.stderr
    assert child is not None and worker.pid not in (None, first)


def test_an_unusable_worker_falls_back_to_a_fresh_process(worker: PreforkWorker, workspace: Workspace) -> None:
    env = workspace.environ()
    outcome = run_process(
        [sys.executable, str(MONITOR_SCRIPT), "--quiet"],
        cwd=str(workspace.path),
        env=env,
        timeout_seconds=60,
        starter=lambda out, err: worker.spawn("no.such.module", [], str(workspace.path), env, out, err),
    )
    assert outcome.status is ExecutionStatus.SUCCESS, outcome.stderr


def test_the_worker_ends_when_its_scheduler_is_killed(workspace: Workspace) -> None:
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from scheduler.prefork_client import PreforkWorker; "
        "worker = PreforkWorker(); worker.start(); print(worker.pid, flush=True); time.sleep(120)"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", code, str(ROOT)], stdout=subprocess.PIPE, text=True, env=workspace.environ()
    )
    try:
        worker_pid = int(owner.stdout.readline())
        assert psutil.pid_exists(worker_pid)
        owner.kill()
        owner.wait(timeout=10)
        started = time.monotonic()
        while psutil.pid_exists(worker_pid) and psutil.Process(worker_pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() - started < 15, "the worker outlived its scheduler"
            time.sleep(0.1)
    finally:
        if owner.poll() is None:
            owner.kill()
        owner.stdout.close()


def test_run_execution_forks_monitoring_runs_and_links_their_notifications(
    worker: PreforkWorker, workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    workspace.write_env(DISK_THRESHOLD="0")
    init_database(workspace.settings["DATABASE_URL"])
    from scheduler.executions import new_execution

    with db.session_scope(writes=True) as session:
        job = Job(
            name="system_monitoring",
            job_type=JobType.MONITORING,
            script_path="scripts/monitoring/system_monitor.py",
            cron_expression="*/5 * * * *",
            enabled=True,
            timeout_seconds=60,
        )
        session.add(job)
        session.flush()
        execution = new_execution(job, ExecutionTrigger.MANUAL, None, owner=None)
        session.add(execution)
        session.flush()
        execution_id = execution.id
    with caplog.at_level("DEBUG", logger="automation.scheduler"):
        run = run_execution(execution_id, worker=worker)
    assert run.status is ExecutionStatus.SUCCESS, run.stderr
    assert "SYSTEM MONITORING REPORT" in run.stdout
    assert f"execution {execution_id}: forked from the pre-imported worker" in caplog.text
    connection = sqlite3.connect(workspace.database)
    try:
        linked = connection.execute("SELECT DISTINCT job_execution_id FROM notifications").fetchall()
    finally:
        connection.close()
    assert linked == [(execution_id,)]
