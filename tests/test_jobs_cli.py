"""`main.py db init` registers the built-in job; `jobs list` and `jobs next` read the jobs table."""

from __future__ import annotations

import sqlite3

from tests.conftest import MAIN, Workspace


def jobs(workspace: Workspace) -> list[tuple]:
    connection = sqlite3.connect(workspace.database)
    try:
        return connection.execute("SELECT name, job_type, script_path, cron_expression, enabled, timeout_seconds "
                                  "FROM jobs ORDER BY id").fetchall()
    finally:
        connection.close()


def test_db_init_registers_the_monitoring_job_once_and_keeps_edits(workspace: Workspace) -> None:
    first = workspace.run("db", "init", script=MAIN)
    assert first.returncode == 0, first.stderr
    assert "registered the built-in job system_monitoring" in first.stdout
    assert jobs(workspace) == [("system_monitoring", "MONITORING", "scripts/monitoring/system_monitor.py",
                                "*/5 * * * *", 1, 60)]
    connection = sqlite3.connect(workspace.database)
    with connection:
        connection.execute("UPDATE jobs SET cron_expression = '*/10 * * * *', enabled = 0")
    connection.close()
    again = workspace.run("db", "init", script=MAIN)
    assert again.returncode == 0 and "registered" not in again.stdout
    assert jobs(workspace)[0][3:5] == ("*/10 * * * *", 0)  # the user's edit survives


def test_jobs_list_and_next(workspace: Workspace) -> None:
    workspace.write_env(SCHEDULER_TIMEZONE="Asia/Tokyo")
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    listing = workspace.run("jobs", "list", script=MAIN)
    assert listing.returncode == 0, listing.stderr
    header, row = listing.stdout.splitlines()
    assert header.split()[:5] == ["NAME", "TYPE", "SCHEDULE", "ENABLED", "TIMEOUT"] and "Asia/Tokyo" in header
    assert row.split()[:5] == ["system_monitoring", "MONITORING", "*/5", "*", "*"]
    assert row.rstrip().endswith("+09:00")
    upcoming = workspace.run("jobs", "next", "system_monitoring", "-n", "3", script=MAIN)
    lines = upcoming.stdout.splitlines()
    assert upcoming.returncode == 0 and len(lines) == 3 and all(line.endswith("+09:00 JST") for line in lines)
    minutes = [int(line.split()[2][3:5]) for line in lines]
    assert all(minute % 5 == 0 for minute in minutes)


def test_jobs_next_of_an_unknown_or_broken_job_is_one_line(workspace: Workspace) -> None:
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    unknown = workspace.run("jobs", "next", "nope", script=MAIN)
    assert unknown.returncode == 2 and unknown.stderr.strip() == (
        "error: no job named 'nope'; `python main.py jobs list` shows the jobs")
    connection = sqlite3.connect(workspace.database)
    with connection:
        connection.execute("UPDATE jobs SET cron_expression = '0 0 31 2 *'")  # written with SQL, unchecked
    connection.close()
    broken = workspace.run("jobs", "next", "system_monitoring", script=MAIN)
    assert broken.returncode == 2 and "can never fire" in broken.stderr
    assert "never: cron expression '0 0 31 2 *' can never fire" in workspace.run("jobs", "list", script=MAIN).stdout
