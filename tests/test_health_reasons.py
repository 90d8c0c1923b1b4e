"""The health document says in words why the platform is unhealthy: a failed monitoring run (its notifications
row, written by the runner because the run itself never reached a database), no enabled job, no scheduler.
Real monitor processes over a real SQLite file."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dashboard.health import health_document
from scheduler.builtin_jobs import register_builtin_jobs
from scheduler.executions import execute_job
from storage import ExecutionStatus, ExecutionTrigger, init_database
from storage.database import write_transaction
from storage.job_queries import job_named
from storage.tables import notifications

UTC = ZoneInfo("UTC")


@pytest.fixture
def database(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = init_database(f"sqlite:///{tmp_path / 'health.db'}")
    yield engine
    engine.dispose()


def test_a_failed_monitoring_run_leaves_an_error_row_and_health_says_why(
    database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with write_transaction(database) as connection:
        register_builtin_jobs(connection)
        monitor_id = job_named(connection, "system_monitoring")["id"]
    bad_env = tmp_path / "bad.env"
    bad_env.write_text("CPU_THRESHOLD=soon\n")
    monkeypatch.setenv("AUTOMATION_ENV_FILE", str(bad_env))  # what the monitor's process reads

    run = execute_job(monitor_id, ExecutionTrigger.MANUAL)

    assert run.status is ExecutionStatus.FAILED
    with database.connect() as connection:
        [row] = connection.execute(select(notifications)).all()
    assert (row.channel, row.level, row.job_execution_id) == ("scheduler", "ERROR", run.id)
    assert row.message.startswith("configuration error: ") and "CPU_THRESHOLD" in row.message
    assert row.message.endswith("; exited with code 2") and "\n" not in row.message
    healthy, document = health_document(UTC)
    assert not healthy and document["monitoring"]["ok"] is False
    assert document["monitoring"]["last_failure"]["reason"] == row.message
    [failure] = [reason for reason in document["reasons"] if "the last run failed" in reason]
    assert failure.endswith(row.message)


def test_no_enabled_job_and_no_scheduler_are_named(database) -> None:
    healthy, document = health_document(UTC)
    assert not healthy and document["status"] == "unhealthy"
    assert document["scheduler"]["enabled_jobs"] == 0
    assert document["reasons"] == [
        "scheduler: none is running (start one with `python main.py run`)",
        "scheduler: no job is enabled, so nothing runs (`python main.py jobs enable NAME`)",
    ]
