"""Schema creation and upgrades through Alembic, on SQLite files and the PostgreSQL and MariaDB servers.

The migrations must build exactly storage.tables.metadata, stay idempotent, upgrade a seed platform database
in place without losing a row, and survive several processes starting at once.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import MAIN, Workspace
from db_servers import PROJECT_ROOT, SEED_METRICS_QUERY, assert_succeeded, connect, fetch
from sqlalchemy import Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, Text, inspect
from sqlalchemy.engine import Engine, make_url

from storage import tables
from storage.schema import MIGRATIONS_DIR, SCHEMA_REVISION, init_database

pytest_plugins = ["db_servers"]


def stamped_revisions(url: str) -> list[str]:
    """alembic_version's rows: exactly one, the head, when the schema was created once and completely."""
    return [row.version_num for row in fetch(url, "SELECT version_num FROM alembic_version")]


def schema_differences(engine: Engine) -> list[Any]:
    """What `alembic revision --autogenerate` would put in a new migration: nothing, when the two agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, tables.metadata)


# The head revision, idempotence and the migrated schema


def test_schema_revision_is_the_alembic_head() -> None:
    """init_database() skips Alembic when alembic_version says SCHEMA_REVISION: the two must stay in step."""
    assert ScriptDirectory(str(MIGRATIONS_DIR)).get_heads() == [SCHEMA_REVISION]


def test_init_database_is_idempotent(database_url: str) -> None:
    engine = init_database(database_url)
    with engine.begin() as connection:
        connection.execute(tables.jobs.insert().values(name="kept", cron_expression="* * * * *"))

    init_database(database_url)

    assert stamped_revisions(database_url) == [SCHEMA_REVISION]
    assert [row.name for row in fetch(database_url, "SELECT name FROM jobs")] == ["kept"]


def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    assert schema_differences(init_database(database_url)) == []


# Upgrading a seed platform database in place


def seed_metadata() -> MetaData:
    """The two tables of the seed platform as its create_all made them: generic types, none of our columns."""
    metadata = MetaData()
    Table(
        "system_metrics",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("timestamp", DateTime),
        Column("hostname", String(255)),
        Column("cpu_percent", Float),
        Column("cpu_count", Integer),
        *(
            Column(name, Float)
            for name in (
                "memory_total_gb",
                "memory_used_gb",
                "memory_percent",
                "disk_total_gb",
                "disk_used_gb",
                "disk_percent",
                "network_sent_mb",
                "network_recv_mb",
            )
        ),
    )
    Table(
        "notifications",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("title", String(255)),
        Column("message", Text),
        Column("level", String(20)),
        Column("channel", String(50)),
        Column("sent_at", DateTime),
        Column("success", Boolean),
        Column("error_message", Text),
        Column("job_execution_id", Integer),
    )
    return metadata


SEED_METRICS = [
    dict(
        timestamp=datetime(2024, 5, 1, 10, 0),
        hostname="seed-host",
        cpu_percent=12.5,
        cpu_count=4,
        memory_total_gb=16.0,
        memory_used_gb=8.0,
        memory_percent=50.0,
        disk_total_gb=500.0,
        disk_used_gb=250.0,
        disk_percent=50.0,
        network_sent_mb=1.5,
        network_recv_mb=2.5,
    ),
    dict(
        timestamp=datetime(2024, 5, 1, 10, 5),
        hostname="seed-host",
        cpu_percent=97.0,
        cpu_count=4,
        memory_total_gb=16.0,
        memory_used_gb=9.0,
        memory_percent=56.25,
        disk_total_gb=500.0,
        disk_used_gb=251.0,
        disk_percent=50.2,
        network_sent_mb=3.0,
        network_recv_mb=4.0,
    ),
]
SEED_NOTIFICATIONS = [
    dict(
        title="High CPU Usage",
        message="CPU usage is 97.0% (threshold: 80%)",
        level="CRITICAL",
        channel="system_monitoring",
        sent_at=datetime(2024, 5, 1, 10, 5),
        success=True,
        error_message=None,
        job_execution_id=None,
    ),
]


def create_seed_database(url: str) -> None:
    """What the seed platform left behind: its tables and rows (ids from the database, as it inserted them)."""
    metadata = seed_metadata()
    if make_url(url).get_backend_name() == "sqlite":
        Path(make_url(url).database or "").parent.mkdir(parents=True, exist_ok=True)
    with connect(url) as connection:
        metadata.create_all(connection)
        connection.execute(metadata.tables["system_metrics"].insert(), SEED_METRICS)
        connection.execute(metadata.tables["notifications"].insert(), SEED_NOTIFICATIONS)
        connection.commit()


def test_db_upgrade_keeps_a_seed_databases_rows(workspace: Workspace, database_url: str) -> None:
    create_seed_database(database_url)
    workspace.write_env(DATABASE_URL=database_url)

    upgraded = workspace.run("db", "upgrade", script=MAIN)

    assert_succeeded(upgraded)
    assert f"is at schema revision {SCHEMA_REVISION}" in upgraded.stdout
    assert stamped_revisions(database_url) == [SCHEMA_REVISION]
    kept = fetch(database_url, "SELECT hostname, cpu_percent, memory_percent FROM system_metrics ORDER BY id")
    assert [tuple(row) for row in kept] == [
        (row["hostname"], row["cpu_percent"], row["memory_percent"]) for row in SEED_METRICS
    ]
    assert [tuple(row) for row in fetch(database_url, "SELECT title, level FROM notifications")] == [
        (row["title"], row["level"]) for row in SEED_NOTIFICATIONS
    ]
    with connect(database_url) as connection:
        inspector = inspect(connection)
        assert set(tables.metadata.tables) <= set(inspector.get_table_names())
        for table in (tables.system_metrics, tables.notifications):  # the seed's tables, completed
            assert set(table.c.keys()) <= {column["name"] for column in inspector.get_columns(table.name)}

    assert_succeeded(workspace.run())

    newest, *seed_rows = fetch(database_url, SEED_METRICS_QUERY)
    assert newest.hostname == socket.gethostname() and newest.cpu_percent is not None
    assert [(row.hostname, row.cpu_percent) for row in seed_rows] == [
        (row["hostname"], row["cpu_percent"]) for row in reversed(SEED_METRICS)
    ]


# Several processes creating the schema at once

RACERS = 3
_RACE = """
import logging, os, sys, time
logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
from storage import init_database
print("ready", flush=True)
while not os.path.exists(sys.argv[2]):  # wait for the others, then start together
    time.sleep(0.002)
init_database(sys.argv[1])
"""


def test_concurrent_init_database_creates_the_schema_once(database_url: str, tmp_path: Path) -> None:
    """Cron may start several jobs at once on a fresh install; the lock in upgrade_database serialises them."""
    start = tmp_path / "start"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACE, database_url, str(start)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(RACERS)
    ]
    assert [run.stdout.readline().strip() for run in runs] == ["ready"] * RACERS  # type: ignore[union-attr]
    start.touch()
    outputs = [run.communicate(timeout=120)[0] for run in runs]

    assert [run.returncode for run in runs] == [0] * RACERS, outputs
    assert sum(output.count("Database schema upgraded from empty") for output in outputs) == 1, outputs
    assert stamped_revisions(database_url) == [SCHEMA_REVISION]
    assert schema_differences(init_database(database_url)) == []
