"""A job runs a program as the scheduler's user: its script must resolve inside JOBS_ALLOWED_DIRS, and it does
not inherit the platform's secrets from the scheduler's environment unless it opts in (JOBS_SECRETS_FOR) or is
the platform's own. Real `main.py jobs` processes over a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.conftest import MAIN, ROOT, Workspace

SECRETS = {
    "API_TOKEN": "job-test-token-0123456789",
    "NOTIFY_URLS": "json://alice:NOTIFYsecret@127.0.0.1:9/hook",
    "EMAIL_SMTP_PASSWORD": "SMTPsecret7",
    "PGPASSWORD": "PGsecret8",
}
SHOW_ENVIRONMENT = "import json, os\nprint(json.dumps(dict(os.environ)))\n"


def last_run(workspace: Workspace) -> sqlite3.Row:
    connection = sqlite3.connect(workspace.database)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute("SELECT * FROM job_executions ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        connection.close()


def job_environment(workspace: Workspace, name: str, **overrides: str) -> dict[str, str]:
    """What a job named `name` running the environment-printing script sees, with `overrides` exported to the
    `jobs run` process (the scheduler)."""
    script = workspace.path / "jobs" / "show_environment.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(SHOW_ENVIRONMENT)
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    added = workspace.run("jobs", "add", name, "--cron", "@daily", "--script", str(script), script=MAIN)
    assert added.returncode == 0, added.stderr
    ran = workspace.run("jobs", "run", name, script=MAIN, **SECRETS, MY_OWN_SETTING="kept", **overrides)
    assert ran.returncode == 0, ran.stderr
    run = last_run(workspace)
    assert run["status"] == "success", run["error_message"]
    return json.loads(run["stdout"])


@pytest.mark.slow
def test_a_job_does_not_inherit_the_platform_secrets(workspace: Workspace) -> None:
    workspace.write_env(JOBS_ALLOWED_DIRS=str(workspace.path / "jobs"))
    seen = job_environment(workspace, "plain", DATABASE_URL=workspace.settings["DATABASE_URL"])
    assert seen["MY_OWN_SETTING"] == "kept" and seen["AUTOMATION_JOB_NAME"] == "plain"
    assert not {*SECRETS, "DATABASE_URL"} & set(seen)


@pytest.mark.slow
def test_a_job_named_in_jobs_secrets_for_gets_them(workspace: Workspace) -> None:
    workspace.write_env(JOBS_ALLOWED_DIRS=str(workspace.path / "jobs"), JOBS_SECRETS_FOR="backup, trusted")
    seen = job_environment(workspace, "trusted")
    assert {key: seen[key] for key in SECRETS} == SECRETS


@pytest.mark.slow
def test_the_monitor_job_works_with_settings_only_in_the_scheduler_environment(workspace: Workspace) -> None:
    database_url = workspace.settings.pop("DATABASE_URL")
    workspace.write_env()  # the .env no longer names the database: only the scheduler's environment does
    assert workspace.run("db", "init", script=MAIN, DATABASE_URL=database_url).returncode == 0
    ran = workspace.run("jobs", "run", "system_monitoring", script=MAIN, DATABASE_URL=database_url)
    assert ran.returncode == 0, ran.stderr
    connection = sqlite3.connect(workspace.database)
    try:  # the monitor's own process found the database through the inherited DATABASE_URL
        assert connection.execute("SELECT COUNT(*) FROM system_metrics").fetchone() == (1,)
    finally:
        connection.close()


def refused(workspace: Workspace, script: str) -> str:
    """`jobs add` with this script: exit 2, one line on stderr, nothing written; returns that line."""
    result = workspace.run("jobs", "add", "escape", "--cron", "@daily", "--script", script, script=MAIN)
    assert result.returncode == 2 and result.stdout == "", result.stderr
    [line] = result.stderr.splitlines()
    connection = sqlite3.connect(workspace.database)
    try:
        assert connection.execute("SELECT COUNT(*) FROM jobs WHERE name = 'escape'").fetchone() == (0,)
    finally:
        connection.close()
    return line


@pytest.mark.slow
def test_by_default_only_the_project_scripts_folder_is_allowed(workspace: Workspace) -> None:
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    for script in ("scripts/../main.py", "main.py", sys.executable):
        line = refused(workspace, script)
        assert line == (
            f"error: --script={script!r} is invalid; expected a script inside JOBS_ALLOWED_DIRS ({ROOT / 'scripts'})"
        )
    inside = "scripts/../scripts/monitoring/system_monitor.py"
    added = workspace.run("jobs", "add", "inside", "--cron", "@daily", "--script", inside, script=MAIN)
    assert added.returncode == 0, added.stderr


@pytest.mark.slow
def test_a_symlink_or_dot_dot_out_of_an_allowed_folder_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    allowed, outside = tmp_path / "allowed", tmp_path / "evil.py"
    allowed.mkdir()
    outside.write_text("print('pwned')\n")
    (allowed / "link.py").symlink_to(outside)
    (allowed / "fine.py").write_text("print('fine')\n")
    workspace.write_env(JOBS_ALLOWED_DIRS=f"scripts,{allowed}")
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    for script in (str(allowed / "link.py"), str(allowed / ".." / "evil.py"), str(outside)):
        assert "expected a script inside JOBS_ALLOWED_DIRS" in refused(workspace, script)
    added = workspace.run("jobs", "add", "fine", "--cron", "@daily", "--script", str(allowed / "fine.py"), script=MAIN)
    assert added.returncode == 0, added.stderr


def test_a_bad_jobs_allowed_dirs_is_one_line(workspace: Workspace) -> None:
    workspace.write_env(JOBS_ALLOWED_DIRS="scripts,no/such/folder")
    result = workspace.run("jobs", "list", script=MAIN)
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        "JOBS_ALLOWED_DIRS='scripts,no/such/folder' is invalid; expected comma-separated existing directories "
        "(relative to the project root), such as scripts,/opt/jobs"
    )
