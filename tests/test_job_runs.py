"""`jobs run`: a job run now is a job_executions row with its outcome; OS cron runs go through the same wrapper."""

from __future__ import annotations

import sqlite3
import sys

import pytest

from tests.conftest import MAIN, Workspace


def rows(workspace: Workspace, sql: str) -> list[sqlite3.Row]:
    connection = sqlite3.connect(workspace.database)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def add_job(workspace: Workspace, name: str, script: str, args: str | None = None, timeout: int = 60) -> None:
    connection = sqlite3.connect(workspace.database)
    with connection:
        connection.execute(
            "INSERT INTO jobs (name, job_type, script_path, script_args, cron_expression, enabled, timeout_seconds, "
            "max_retries, created_at, updated_at) VALUES (?, 'CUSTOM', ?, ?, '0 * * * *', 1, ?, 0, "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            (name, script, args, timeout),
        )
    connection.close()


@pytest.mark.slow
def test_running_the_monitoring_job_records_the_run_and_links_its_notifications(workspace: Workspace) -> None:
    workspace.write_env(DISK_THRESHOLD="0")
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    result = workspace.run("jobs", "run", "system_monitoring", script=MAIN)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("system_monitoring: success in ") and "(exit code 0) - execution 1" in result.stdout
    (run,) = rows(workspace, "SELECT * FROM job_executions")
    assert (run["status"], run["trigger"], run["exit_code"], run["job_name"]) == (
        "success",
        "manual",
        0,
        "system_monitoring",
    )
    assert "SYSTEM MONITORING REPORT" in run["stdout"] and run["duration_seconds"] > 0
    assert run["hostname"] and run["platform"] == sys.platform and run["completed_at"] >= run["started_at"]
    # owned by the CLI's own process, so a scheduler never takes it for a run queued from the dashboard
    assert run["owner"].startswith(f"direct:{run['hostname']}:")
    notifications = rows(workspace, "SELECT job_execution_id FROM notifications")
    assert notifications and {row["job_execution_id"] for row in notifications} == {run["id"]}


def test_a_failing_script_with_arguments(workspace: Workspace) -> None:
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    script = workspace.path / "fail.py"
    script.write_text(
        "import os, sys\nprint(sys.argv[1:], os.environ['AUTOMATION_TRIGGER'], os.getcwd())\nsys.exit(4)\n"
    )
    add_job(workspace, "failing", str(script), '["--days", "7"]')
    result = workspace.run("jobs", "run", "failing", "--trigger", "os-cron", script=MAIN)
    assert result.returncode == 1
    assert "failing: failed in " in result.stdout and "exit code 4" in result.stdout
    (run,) = rows(workspace, "SELECT * FROM job_executions")
    assert (run["status"], run["trigger"], run["exit_code"]) == ("failed", "os-cron", 4)
    assert run["stdout"].startswith("['--days', '7'] os-cron ") and run["error_message"] == "exited with code 4"


@pytest.mark.slow
def test_a_timeout_is_recorded(workspace: Workspace) -> None:
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    script = workspace.path / "slow.py"
    script.write_text("import time\ntime.sleep(60)\n")
    add_job(workspace, "slow", str(script), timeout=2)
    result = workspace.run("jobs", "run", "slow", script=MAIN)
    assert result.returncode == 1 and "slow: timeout in " in result.stdout
    (run,) = rows(workspace, "SELECT status, error_message FROM job_executions")
    assert tuple(run) == ("timeout", "timed out after 2 s")


def test_bad_script_args_are_a_failed_run_with_the_reason(workspace: Workspace) -> None:
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    add_job(workspace, "broken", "x.py", "--days 7")
    result = workspace.run("jobs", "run", "broken", script=MAIN)
    assert result.returncode == 1
    (run,) = rows(workspace, "SELECT status, error_message FROM job_executions")
    assert run["status"] == "failed" and "expected a JSON list of strings" in run["error_message"]


@pytest.mark.slow
def test_history_and_cron_line(workspace: Workspace) -> None:
    workspace.write_env(SCHEDULER_TIMEZONE="Europe/Berlin")
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    assert workspace.run("jobs", "run", "system_monitoring", script=MAIN).returncode == 0
    history = workspace.run("jobs", "history", "system_monitoring", script=MAIN).stdout.splitlines()
    assert history[0].split()[:3] == ["ID", "STATUS", "TRIGGER"] and history[1].split()[:3] == [
        "1",
        "success",
        "manual",
    ]
    zone_line, line = workspace.run("jobs", "cron-line", "system_monitoring", script=MAIN).stdout.splitlines()
    assert zone_line == "CRON_TZ=Europe/Berlin"
    assert line.startswith("*/5 * * * * cd ") and line.endswith("main.py jobs run system_monitoring --trigger os-cron")
    unknown = workspace.run("jobs", "run", "nope", script=MAIN)
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: no job named 'nope'")


@pytest.mark.slow
def test_a_failed_run_is_retried_with_backoff_until_it_succeeds(workspace: Workspace) -> None:
    workspace.write_env(SCHEDULER_RETRY_BASE_SECONDS="0.2", SCHEDULER_RETRY_MAX_SECONDS="0.3")
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    counter = workspace.path / "attempts"
    script = workspace.path / "flaky.py"
    script.write_text(
        f"import pathlib, sys\npath = pathlib.Path({str(counter)!r})\n"
        "attempt = int(path.read_text()) + 1 if path.exists() else 1\npath.write_text(str(attempt))\n"
        "print('attempt', attempt)\nsys.exit(0 if attempt == 3 else 5)\n"
    )
    add_job(workspace, "flaky", str(script))
    connection = sqlite3.connect(workspace.database)
    with connection:
        connection.execute("UPDATE jobs SET max_retries = 3 WHERE name = 'flaky'")
    connection.close()
    result = workspace.run("jobs", "run", "flaky", script=MAIN)
    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = rows(workspace, "SELECT status, retry_count, stdout, error_message FROM job_executions")
    assert (run["status"], run["retry_count"], run["stdout"]) == ("success", 2, "attempt 3\n")
    assert run["error_message"] == "attempt 1: exited with code 5; attempt 2: exited with code 5"


@pytest.mark.slow
def test_retries_stop_at_max_retries_and_timeouts_are_not_retried_by_default(workspace: Workspace) -> None:
    workspace.write_env(SCHEDULER_RETRY_BASE_SECONDS="0.1", SCHEDULER_RETRY_MAX_SECONDS="0.1")
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    failing, slow = workspace.path / "fail.py", workspace.path / "slow.py"
    failing.write_text("import sys\nsys.exit(2)\n")
    slow.write_text("import time\ntime.sleep(30)\n")
    add_job(workspace, "failing", str(failing))
    add_job(workspace, "slow", str(slow), timeout=1)
    assert workspace.run("jobs", "edit", "failing", "--retries", "2", script=MAIN).returncode == 0
    assert workspace.run("jobs", "edit", "slow", "--retries", "2", script=MAIN).returncode == 0
    assert workspace.run("jobs", "run", "failing", script=MAIN).returncode == 1
    assert workspace.run("jobs", "run", "slow", script=MAIN).returncode == 1
    failed, timed_out = rows(workspace, "SELECT status, retry_count, error_message FROM job_executions ORDER BY id")
    assert (failed["status"], failed["retry_count"]) == ("failed", 2)
    assert failed["error_message"].count("exited with code 2") == 3
    assert (timed_out["status"], timed_out["retry_count"], timed_out["error_message"]) == (
        "timeout",
        0,
        "timed out after 1 s",
    )
    assert workspace.run("jobs", "edit", "slow", "--retry-timeouts", script=MAIN).returncode == 0
    assert workspace.run("jobs", "run", "slow", script=MAIN).returncode == 1
    retried = rows(workspace, "SELECT status, retry_count FROM job_executions ORDER BY id")[-1]
    assert tuple(retried) == ("timeout", 2)
