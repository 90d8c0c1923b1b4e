"""`main.py db init` registers the built-in jobs; `jobs list` and `jobs next` read the jobs table."""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import MAIN, Workspace
from tests.db_servers import fetch


def jobs(workspace: Workspace) -> list[tuple]:
    sql = "SELECT name, job_type, script_path, cron_expression, enabled, timeout_seconds FROM jobs ORDER BY id"
    return [tuple(row) for row in fetch(f"sqlite:///{workspace.database}", sql)]


def test_db_init_registers_the_built_in_jobs_once_and_keeps_edits(workspace: Workspace) -> None:
    first = workspace.run("db", "init", script=MAIN)
    assert first.returncode == 0, first.stderr
    assert "registered the built-in job system_monitoring" in first.stdout
    assert jobs(workspace) == [
        ("system_monitoring", "MONITORING", "scripts/monitoring/system_monitor.py", "*/5 * * * *", 1, 60),
        ("data_retention", "CLEANUP", "main.py", "17 3 * * *", 1, 3600),
    ]
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
    header, retention, row = listing.stdout.splitlines()  # by name
    assert header.split()[:5] == ["NAME", "TYPE", "SCHEDULE", "ENABLED", "TIMEOUT"] and "Asia/Tokyo" in header
    assert row.split()[:5] == ["system_monitoring", "MONITORING", "*/5", "*", "*"]
    assert row.rstrip().endswith("+09:00") and retention.split()[:3] == ["data_retention", "CLEANUP", "17"]
    upcoming = workspace.run("jobs", "next", "system_monitoring", "-n", "3", script=MAIN)
    lines = upcoming.stdout.splitlines()
    assert upcoming.returncode == 0 and len(lines) == 3 and all(line.endswith("+09:00 JST") for line in lines)
    minutes = [int(line.split()[2][3:5]) for line in lines]
    assert all(minute % 5 == 0 for minute in minutes)


@pytest.mark.slow
def test_jobs_next_of_an_unknown_or_broken_job_is_one_line(workspace: Workspace) -> None:
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    unknown = workspace.run("jobs", "next", "nope", script=MAIN)
    assert unknown.returncode == 2 and unknown.stderr.strip() == (
        "error: no job named 'nope'; `python main.py jobs list` shows the jobs"
    )
    connection = sqlite3.connect(workspace.database)
    with connection:
        connection.execute("UPDATE jobs SET cron_expression = '0 0 31 2 *'")  # written with SQL, unchecked
    connection.close()
    broken = workspace.run("jobs", "next", "system_monitoring", script=MAIN)
    assert broken.returncode == 2 and "can never fire" in broken.stderr
    assert "never: cron expression '0 0 31 2 *' can never fire" in workspace.run("jobs", "list", script=MAIN).stdout


@pytest.mark.slow
def test_add_edit_enable_disable_remove(workspace: Workspace) -> None:
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    added = workspace.run(
        "jobs",
        "add",
        "nightly",
        "--cron",
        "0  3 * * *",
        "--script",
        "scripts/monitoring/system_monitor.py",
        "--args",
        '["--quiet"]',
        "--timeout",
        "120",
        "--description",
        "a second monitor run",
        script=MAIN,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added job nightly (0 3 * * *)"
    assert jobs(workspace)[2] == ("nightly", "CUSTOM", "scripts/monitoring/system_monitor.py", "0 3 * * *", 1, 120)
    edited = workspace.run("jobs", "edit", "nightly", "--cron", "@daily", "--retries", "2", script=MAIN)
    assert edited.stdout.strip() == "changed cron_expression, max_retries of job nightly"
    assert workspace.run("jobs", "disable", "nightly", script=MAIN).stdout.strip() == "disabled job nightly"
    assert jobs(workspace)[2][3:5] == ("@daily", 0)
    assert workspace.run("jobs", "enable", "nightly", script=MAIN).returncode == 0 and jobs(workspace)[2][4] == 1
    assert workspace.run("jobs", "run", "nightly", script=MAIN).returncode == 0
    assert workspace.run("jobs", "remove", "nightly", script=MAIN).stdout.strip() == "removed job nightly"
    assert [row[0] for row in jobs(workspace)] == ["system_monitoring", "data_retention"]
    connection = sqlite3.connect(workspace.database)
    try:  # the run's record outlives the job, without the link
        assert connection.execute("SELECT job_id, job_name FROM job_executions").fetchall() == [(None, "nightly")]
    finally:
        connection.close()


BAD_JOB_SETTINGS = [
    (
        ["add", "x", "--cron", "0 0 31 2 *", "--type", "monitoring"],
        "error: --cron='0 0 31 2 *' is invalid; expected a cron expression that can fire",
    ),
    (
        ["add", "x", "--cron", "61 * * * *", "--type", "monitoring"],
        "error: --cron='61 * * * *' is invalid; expected a cron expression that can fire (cron expression "
        "'61 * * * *' is invalid: the minute field '61' is out of range; expected 0-59",
    ),
    (["add", "x", "--cron", "@daily"], "error: --script=None is invalid; expected a script for every job type"),
    (["add", "x", "--cron", "@daily", "--script", "no/such/file.py"], "error: --script='no/such/file.py' is invalid"),
    (["add", "x", "--cron", "@daily", "--type", "toaster"], "error: --type='toaster' is invalid; expected one of"),
    (
        ["add", "x", "--cron", "@daily", "--type", "monitoring", "--args=--days 7"],
        "error: --args='--days 7' is invalid; expected a JSON list of strings",
    ),
    (
        ["add", "system_monitoring", "--cron", "@daily", "--type", "monitoring"],
        "error: name='system_monitoring' is invalid; expected a name no other job has",
    ),
    (["edit", "system_monitoring", "--timeout", "0"], "error: --timeout=0 is invalid; expected a whole number"),
    (["edit", "system_monitoring"], "error: options=None is invalid; expected at least one setting"),
    (["edit", "nope", "--timeout", "5"], "error: no job named 'nope'"),
    (["disable", "nope"], "error: no job named 'nope'"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "message"), BAD_JOB_SETTINGS, ids=[" ".join(a[:3]) for a, _ in BAD_JOB_SETTINGS])
def test_bad_job_settings_are_one_line_and_change_nothing(workspace: Workspace, args: list[str], message: str) -> None:
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    before = jobs(workspace)
    result = workspace.run("jobs", *args, script=MAIN)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message) and len(result.stderr.strip().splitlines()) == 1
    assert jobs(workspace) == before


BAD_NAMES = {"empty": "", "leading space": " nightly", "trailing space": "nightly ", "129 characters": "x" * 129}


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_a_bad_job_name_is_one_line_and_writes_nothing_as_in_the_api(workspace: Workspace, name: str) -> None:
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    before = jobs(workspace)
    result = workspace.run("jobs", "add", name, "--cron", "@daily", "--type", "monitoring", script=MAIN)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"error: name={name!r} is invalid; expected a name of 1 to 128 characters on one line, "
        f"without control characters or white space at either end\n"
    )
    assert jobs(workspace) == before


def test_a_job_with_its_own_time_zone(workspace: Workspace) -> None:
    workspace.write_env(SCHEDULER_TIMEZONE="UTC")
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    added = workspace.run(
        "jobs", "add", "tokyo", "--cron", "0 9 * * *", "--tz", "Asia/Tokyo", "--type", "monitoring", script=MAIN
    )
    assert added.returncode == 0, added.stderr
    upcoming = workspace.run("jobs", "next", "tokyo", "-n", "2", script=MAIN).stdout.splitlines()
    assert [line.split()[2] for line in upcoming] == ["09:00:00+09:00"] * 2
    bad = workspace.run("jobs", "edit", "tokyo", "--tz", "Asia/Atlantis", script=MAIN)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --tz='Asia/Atlantis' is invalid")
