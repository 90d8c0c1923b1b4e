"""Storage on real databases: SQLite files in tmp dirs and the local PostgreSQL and MariaDB servers.

Covers the public imports, the session scope, SQLite's connection set-up, the ORM and Core round trips
(enums, UTC timestamps, double-precision counters) and the monitor writing end to end on every backend.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import Workspace
from db_servers import (
    PROJECT_ROOT,
    SEED_METRICS_QUERY,
    SEED_NOTIFICATIONS_QUERY,
    assert_succeeded,
    fetch,
    sqlite_url,
)
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from storage import tables
from storage.database import db
from storage.metrics_store import latest_counters, save_sample
from storage.schema import init_database

pytest_plugins = ["db_servers"]

# The job the seed platform's documentation adds (its job_type is given per test).
SEED_JOB = dict(
    name="system_monitoring",
    description="System resource monitoring",
    script_path="scripts/monitoring/system_monitor.py",
    cron_expression="*/5 * * * *",
    enabled=True,
    timeout_seconds=60,
)


@pytest.fixture
def engine(database_url: str) -> Engine:
    """A fresh database on each backend, migrated to head and bound to storage.db."""
    return init_database(database_url)


def count(connection: Connection, table: str) -> int:
    """Rows in a table, counted in SQL (not through an ORM identity map that could hide a rollback)."""
    return connection.execute(select(func.count()).select_from(tables.metadata.tables[table])).scalar_one()


def add_notification(connection: Connection, **values: object) -> int:
    """A notifications row with every NOT NULL column filled; `values` add or override columns."""
    row = dict(title="Disk usage", message="Disk usage of / is 91%", level="WARNING", channel="system_monitoring")
    return connection.execute(insert(tables.notifications).values(**{**row, **values})).inserted_primary_key[0]


def run_python(code: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter started from the project root, as an operator would."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


# The public imports and init_database() from a fresh process


def test_the_documented_imports_work() -> None:
    from storage import Job, JobType, Notification, SystemMetric
    from storage import db as storage_db
    from storage import init_database as init

    assert storage_db is db and init is init_database
    assert Job.__table__ is tables.jobs
    assert SystemMetric.__table__ is tables.system_metrics
    assert Notification.__table__ is tables.notifications
    assert JobType.MONITORING.name == "MONITORING"


def test_importing_storage_maps_no_models_until_one_is_used(workspace: Workspace) -> None:
    """A cron-started monitor run imports storage; it should not pay for ORM mapping it never uses."""
    code = (
        "import sys, storage\n"
        "print('storage.models' in sys.modules)\n"
        "from storage import Job\n"
        "print('storage.models' in sys.modules)\n"
    )
    completed = run_python(code, workspace.environ())
    assert_succeeded(completed)
    assert completed.stdout.split() == ["False", "True"]


def test_init_database_from_a_fresh_process_creates_the_tables(workspace: Workspace) -> None:
    """`python -c "from storage import init_database; init_database()"` reads DATABASE_URL from the .env."""
    assert not workspace.database.exists()

    assert_succeeded(run_python("from storage import init_database; init_database()", workspace.environ()))

    with sqlite3.connect(workspace.database) as connection:
        names = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == {*tables.metadata.tables, "alembic_version"}


def test_init_database_at_head_does_not_import_alembic(workspace: Workspace) -> None:
    """Every monitor run calls init_database(); when the schema is current that must stay a cheap check."""
    assert_succeeded(run_python("from storage import init_database; init_database()", workspace.environ()))

    completed = run_python(
        "import sys; from storage import init_database; init_database(); print('alembic' in sys.modules)",
        workspace.environ(),
    )
    assert_succeeded(completed)
    assert completed.stdout.strip() == "False"


# db.session_scope()


def test_session_scope_commits_when_the_block_succeeds(engine: Engine) -> None:
    from storage import Notification

    with db.session_scope() as session:
        session.add(Notification(title="t", message="m", level="INFO", channel="system_monitoring"))

    with engine.connect() as connection:
        assert count(connection, "notifications") == 1


def test_session_scope_rolls_back_when_the_block_raises(engine: Engine) -> None:
    from storage import Notification

    with pytest.raises(RuntimeError, match="boom"), db.session_scope() as session:
        session.add(Notification(title="t", message="m", level="INFO", channel="system_monitoring"))
        session.flush()  # the INSERT really reached the database
        raise RuntimeError("boom")

    with engine.connect() as connection:
        assert count(connection, "notifications") == 0


# SQLite's connection set-up


def pragmas(engine: Engine, *names: str) -> list[object]:
    """The values a pooled connection of `engine` really runs with."""
    with engine.connect() as connection:
        return [connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names]


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "automation.db")
    init_database(url)
    assert pragmas(db.engine, "journal_mode", "foreign_keys", "busy_timeout") == ["wal", 1, 30_000]

    db.configure(url, busy_timeout_seconds=2.5)
    assert pragmas(db.engine, "busy_timeout") == [2_500]


def test_sqlite_url_folder_is_created_when_missing(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "data" / "automation.db"

    init_database(sqlite_url(database))

    assert database.is_file()


def test_sqlite_enforces_foreign_keys_deleting_a_sample_deletes_its_details(tmp_path: Path) -> None:
    """Detail rows cascade and notifications keep their text (SET NULL): only true if foreign_keys is on."""
    engine = init_database(sqlite_url(tmp_path / "automation.db"))
    with engine.begin() as connection:
        metric_id = connection.execute(
            insert(tables.system_metrics).values(timestamp=datetime.now(timezone.utc), hostname="host")
        ).inserted_primary_key[0]
        connection.execute(
            insert(tables.system_metric_cpu_cores).values(
                system_metric_id=metric_id, core_index=0, busy_seconds_total=1.0, seconds_total=2.0
            )
        )
        connection.execute(insert(tables.system_metric_disks).values(system_metric_id=metric_id, mountpoint="/"))
        notification_id = add_notification(connection, system_metric_id=metric_id)

    with engine.begin() as connection:
        connection.execute(tables.system_metrics.delete().where(tables.system_metrics.c.id == metric_id))

    with engine.connect() as connection:
        assert count(connection, "system_metric_cpu_cores") == count(connection, "system_metric_disks") == 0
        notifications = tables.notifications
        orphan = connection.execute(
            select(notifications.c.system_metric_id).where(notifications.c.id == notification_id)
        ).one()
        assert orphan.system_metric_id is None


# The ORM round trip of the seed's job


def test_seed_job_round_trips_through_the_orm(engine: Engine) -> None:
    from storage import Job, JobType

    before = datetime.now(timezone.utc)
    with db.session_scope() as session:
        session.add(Job(**SEED_JOB, job_type=JobType.MONITORING))

    with db.session_scope() as session:
        job = session.scalars(select(Job)).one()
        assert (job.name, job.description, job.script_path, job.cron_expression) == (
            SEED_JOB["name"],
            SEED_JOB["description"],
            SEED_JOB["script_path"],
            SEED_JOB["cron_expression"],
        )
        assert job.job_type is JobType.MONITORING
        assert job.enabled is True and job.timeout_seconds == 60 and job.max_retries == 0
        assert job.created_at.tzinfo is timezone.utc
        assert before - timedelta(seconds=1) <= job.created_at <= datetime.now(timezone.utc) + timedelta(seconds=1)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT job_type FROM jobs")).scalar_one() == "MONITORING"


def test_job_names_are_unique(engine: Engine) -> None:
    from storage import Job, JobType

    with db.session_scope() as session:
        session.add(Job(**SEED_JOB, job_type=JobType.MONITORING))
    with pytest.raises(IntegrityError), db.session_scope() as session:
        session.add(Job(**SEED_JOB, job_type=JobType.CUSTOM))

    with engine.connect() as connection:
        assert count(connection, "jobs") == 1


# Timestamps


def test_aware_timestamps_are_stored_as_utc_with_microseconds(engine: Engine) -> None:
    """UTCDateTime stores naive UTC; MariaDB keeps microseconds only because the column is DATETIME(6)."""
    india = timezone(timedelta(hours=5, minutes=30))
    sent_at = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=india)
    with engine.begin() as connection:
        notification_id = add_notification(connection, sent_at=sent_at)

    with engine.connect() as connection:
        notifications = tables.notifications
        stored = connection.execute(
            select(notifications.c.sent_at).where(notifications.c.id == notification_id)
        ).scalar_one()
        raw = connection.execute(text("SELECT sent_at FROM notifications")).scalar_one()
    assert stored == sent_at and stored.tzinfo is timezone.utc
    assert stored == datetime(2026, 3, 1, 6, 30, 0, 123456, tzinfo=timezone.utc)
    assert str(raw) == "2026-03-01 06:30:00.123456"  # naive UTC in SQL, sortable as text in SQLite


def test_naive_timestamps_are_taken_as_utc(engine: Engine) -> None:
    with engine.begin() as connection:
        add_notification(connection, sent_at=datetime(2026, 3, 1, 6, 30))
    with engine.connect() as connection:
        stored = connection.execute(select(tables.notifications.c.sent_at)).scalar_one()
    assert stored == datetime(2026, 3, 1, 6, 30, tzinfo=timezone.utc)


# metrics_store on a real sample


def test_saved_sample_counters_read_back_exactly(engine: Engine, settings_for: Callable[..., object]) -> None:
    """The next run's rates start from these counters: doubles must stay doubles (MySQL's FLOAT would not)."""
    from pipeline.monitor import monitor_once
    from storage.sample_rows import baseline_values, sample_rows

    sample = monitor_once(settings_for(), save=False).sample
    rows = sample_rows(sample)
    rows.metric.update(
        cpu_busy_seconds_total=1e12 + 0.5, cpu_seconds_total=4e12 + 0.25, disk_read_bytes_total=2**62 + 1
    )
    cores = rows.details["system_metric_cpu_cores"]
    cores[0].update(busy_seconds_total=1e12 + 0.5)
    baseline = baseline_values(sample)
    notification = dict(title="t", message="m", level="WARNING", channel="system_monitoring", sent_at=sample.timestamp)

    with engine.begin() as connection:
        sample_id = save_sample(connection, rows, [notification], baseline)
    with engine.connect() as connection:
        stored = latest_counters(connection, sample.hostname, not_after=sample.timestamp)
        linked = connection.execute(select(tables.notifications.c.system_metric_id)).scalar_one()

    assert stored is not None and linked == sample_id
    assert stored.metric["id"] == sample_id and stored.metric["timestamp"] == sample.timestamp
    assert stored.metric["cpu_busy_seconds_total"] == 1e12 + 0.5
    assert stored.metric["cpu_seconds_total"] == 4e12 + 0.25
    assert stored.metric["disk_read_bytes_total"] == 2**62 + 1
    assert [dict(core) for core in stored.cores] == [
        {name: core[name] for name in ("core_index", "busy_seconds_total", "seconds_total")} for core in cores
    ]
    assert [disk["io_device"] for disk in stored.disks] == [
        disk["io_device"] for disk in rows.details["system_metric_disks"]
    ]
    assert [(nic["interface"], nic["bytes_recv_total"]) for nic in stored.networks] == [
        (nic["interface"], nic["bytes_recv_total"]) for nic in rows.details["system_metric_networks"]
    ]
    if baseline is None:
        assert stored.baseline is None
    else:
        assert stored.baseline["counters_json"] == baseline["counters_json"]


def test_latest_counters_picks_the_newest_sample_not_the_last_inserted_nor_one_from_the_future(
    engine: Engine, settings_for: Callable[..., object]
) -> None:
    from pipeline.monitor import monitor_once
    from storage.sample_rows import baseline_values, sample_rows

    sample = monitor_once(settings_for(), save=False).sample
    newest, older, future = sample_rows(sample), sample_rows(sample), sample_rows(sample)
    older.metric["timestamp"] = sample.timestamp - timedelta(minutes=5)
    future.metric["timestamp"] = sample.timestamp + timedelta(days=300)  # written while the clock was wrong
    with engine.begin() as connection:
        newest_id = save_sample(connection, newest, [], baseline_values(sample))
        save_sample(connection, older, [], baseline_values(sample))  # replaces the host's baseline row
        save_sample(connection, future, [], None)
        assert latest_counters(connection, "no-such-host", not_after=sample.timestamp) is None
        stored = latest_counters(connection, sample.hostname, not_after=sample.timestamp)
        assert stored is not None and stored.metric["id"] == newest_id
        baselines = connection.execute(select(tables.process_cpu_baselines.c.taken_at)).scalars().all()
        assert baselines == [sample.timestamp]  # one row per host, replaced in place


# The seed's SQL in the sqlite3 shell


def sqlite3_shell(database: Path, sql: str) -> list[dict[str, object]]:
    """Run SQL verbatim in the sqlite3 command-line shell, as an operator following the seed's docs would."""
    completed = subprocess.run(
        ["/usr/bin/sqlite3", "-json", str(database), sql], capture_output=True, text=True, timeout=30
    )
    assert_succeeded(completed)
    return json.loads(completed.stdout or "[]")


def test_seed_queries_work_in_the_sqlite3_shell(workspace: Workspace) -> None:
    assert_succeeded(workspace.run())
    workspace.write_env(DISK_THRESHOLD="0", DISK_CRITICAL_THRESHOLD="0")
    assert_succeeded(workspace.run())

    metrics = sqlite3_shell(workspace.database, SEED_METRICS_QUERY)
    assert len(metrics) == 2
    newest, oldest = (datetime.fromisoformat(str(row["timestamp"])) for row in metrics)
    assert newest > oldest
    for row in metrics:
        assert row["hostname"] == socket.gethostname()
        assert 0 <= row["cpu_percent"] <= 100 and 0 < row["memory_percent"] <= 100 and 0 < row["disk_percent"] <= 100

    notifications = sqlite3_shell(workspace.database, SEED_NOTIFICATIONS_QUERY)
    # A busy machine may add CPU or load alerts to either run; disk alerts come from the second run only,
    # one for every mount point of its sample that is not empty (a level of 0 is exceeded by any usage above 0).
    disk_alerts = [row for row in notifications if str(row["message"]).startswith("Disk usage of ")]
    alerted_mounts = {str(row["message"]).removeprefix("Disk usage of ").partition(" is ")[0] for row in disk_alerts}
    used_mounts = {
        row["mountpoint"]
        for row in sqlite3_shell(
            workspace.database,
            (
                "SELECT mountpoint FROM system_metric_disks WHERE percent > 0 "
                "AND system_metric_id = (SELECT MAX(id) FROM system_metrics)"
            ),
        )
    }
    assert used_mounts and alerted_mounts == used_mounts, notifications
    for row in disk_alerts:
        assert row["level"] == "CRITICAL" and row["sent_at"] == metrics[0]["timestamp"], row


# The monitor end to end on every backend


def test_monitor_runs_end_to_end(workspace: Workspace, database_url: str) -> None:
    workspace.write_env(DATABASE_URL=database_url)

    for _ in range(2):
        assert_succeeded(workspace.run())

    rows = fetch(database_url, "SELECT hostname, cpu_percent, rate_interval_seconds FROM system_metrics ORDER BY id")
    assert len(rows) == 2
    second = rows[1]
    assert second.hostname == socket.gethostname()
    assert second.cpu_percent is not None and 0 <= second.cpu_percent <= 100
    assert second.rate_interval_seconds > 0
    assert fetch(database_url, "SELECT COUNT(*) FROM system_metric_cpu_cores")[0][0] > 0


def test_a_process_baseline_larger_than_64_kib_is_stored(engine: Engine) -> None:
    """A host with thousands of processes: MySQL's TEXT (64 KiB) would reject it and lose the whole sample."""
    from datetime import datetime, timezone

    from storage.metrics_store import SampleRows

    counters = "{" + ",".join(f'"{pid}":[1700000000.12,{pid}.5]' for pid in range(5000)) + "}"
    assert len(counters) > 100_000
    taken_at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows = SampleRows(metric=dict(timestamp=taken_at, hostname="busy-host"), details={})
    with engine.begin() as connection:
        save_sample(connection, rows, [], dict(hostname="busy-host", taken_at=taken_at, counters_json=counters))
    with engine.connect() as connection:
        stored = latest_counters(connection, "busy-host", not_after=taken_at)
    assert stored is not None and stored.baseline is not None and stored.baseline["counters_json"] == counters
