"""A fresh install: `python main.py` on a database that does not exist yet creates the schema, registers the
built-in jobs and monitors, without a `db init` first."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import insert

from scheduler.builtin_jobs import register_on_first_start
from storage import init_database, tables
from storage.database import write_transaction
from storage.job_queries import delete_job, job_id_named
from tests.api_server import environ, free_port
from tests.conftest import MAIN


def _scalar(database: Path, sql: str) -> object:
    if not database.exists():
        return None
    with closing(sqlite3.connect(database)) as connection:
        try:
            return connection.execute(sql).fetchone()[0]
        except sqlite3.OperationalError:  # the schema is not there yet
            return None


@pytest.mark.slow
def test_python_main_py_on_a_fresh_install_monitors_without_db_init(tmp_path: Path) -> None:
    database = tmp_path / "fresh" / "automation.db"
    assert not database.parent.exists()
    env = environ(tmp_path, f"sqlite:///{database}", API_PORT=str(free_port()))
    log = tmp_path / "main.log"
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, str(MAIN)], env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while not _scalar(database, "SELECT count(*) FROM system_metrics"):
            assert process.poll() is None, f"main.py exited {process.returncode}: {log.read_text()}"
            assert time.monotonic() < deadline, f"no sample within 90 s: {log.read_text()}"
            time.sleep(0.2)
    finally:
        process.terminate()
        code = process.wait(timeout=60)
    assert code == 0, log.read_text()
    with closing(sqlite3.connect(database)) as connection:
        jobs = dict(connection.execute("SELECT name, enabled FROM jobs").fetchall())
        runs = connection.execute("SELECT job_name, trigger, status FROM job_executions").fetchall()
    assert jobs == {"system_monitoring": 1, "data_retention": 1}
    assert ("system_monitoring", "manual", "success") in runs
    assert "registered the built-in job system_monitoring" in (tmp_path / "automation.log").read_text()


def test_first_start_registers_the_built_in_jobs_only_on_a_database_that_never_had_jobs(tmp_path: Path) -> None:
    engine = init_database(f"sqlite:///{tmp_path / 'automation.db'}")
    with write_transaction(engine) as connection:
        assert register_on_first_start(connection) == ["system_monitoring", "data_retention"]
    with write_transaction(engine) as connection:
        assert register_on_first_start(connection) == []
        monitor_id = job_id_named(connection, "system_monitoring")
        assert monitor_id is not None
        connection.execute(
            insert(tables.job_executions).values(
                job_id=monitor_id, job_name="system_monitoring", status="success", trigger="schedule"
            )
        )
        for name in ("system_monitoring", "data_retention"):
            job_id = job_id_named(connection, name)
            assert job_id is not None and delete_job(connection, job_id)
    # The user removed every job; their runs stay, and so does the user's choice.
    with write_transaction(engine) as connection:
        assert register_on_first_start(connection) == []
        assert job_id_named(connection, "system_monitoring") is None
    engine.dispose()
