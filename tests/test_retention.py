"""`main.py db prune`: history older than the RETENTION_* settings goes, on every backend, in batches; what
is newer, unfinished or still active stays; links to deleted rows are cleared, not left dangling."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import create_engine, insert
from sqlalchemy.pool import NullPool

from config.retention_settings import RetentionSettings
from storage import tables
from tests.conftest import MAIN, Workspace, clean_environ
from tests.db_servers import assert_succeeded, fetch

pytestmark = pytest.mark.postgresql
pytest_plugins = ["db_servers"]

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def main_py(workspace: Workspace, url: str, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    workspace.write_env(DATABASE_URL=url, **settings)
    return subprocess.run(
        [sys.executable, str(MAIN), *args],
        env={**clean_environ(), **workspace.environ()},
        capture_output=True,
        text=True,
        timeout=120,
    )


def seed(url: str) -> None:
    """Old and new rows of every kind prune looks at, linked the way the platform links them."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:

        def add(table: Any, **values: Any) -> int:
            return connection.execute(insert(table).values(**values)).inserted_primary_key[0]

        samples = {
            days: add(tables.system_metrics, timestamp=ago(days), hostname="web1", cpu_percent=days)
            for days in (200, 100, 91, 89, 1)
        }
        host_id = add(tables.hosts, name="web1", created_at=ago(300))
        for days in (100, 2):  # gaps an agent reported: they go with the samples of their time
            add(
                tables.host_gaps,
                host_id=host_id,
                outbox_id="0" * 32,
                first_seq=days,
                last_seq=days,
                samples=1,
                first_collected_at=ago(days),
                last_collected_at=ago(days),
                reason="older than AGENT_OUTBOX_MAX_AGE (86400 s)",
                received_at=ago(1),
            )
        for sample_id in samples.values():
            for core in range(2):
                add(
                    tables.system_metric_cpu_cores,
                    system_metric_id=sample_id,
                    core_index=core,
                    busy_seconds_total=1.0,
                    seconds_total=2.0,
                )
        old_run = add(
            tables.job_executions,
            job_name="nightly",
            status="success",
            trigger="schedule",
            scheduled_for=ago(100),
            completed_at=ago(100),
            retry_count=0,
        )
        add(
            tables.job_executions,
            job_name="nightly",
            status="running",
            trigger="schedule",
            scheduled_for=ago(100),
            started_at=ago(100),
            retry_count=0,
        )  # unfinished: kept, however old (the abandoned rule ends it)
        add(
            tables.job_executions,
            job_name="nightly",
            status="failed",
            trigger="manual",
            completed_at=ago(2),
            retry_count=0,
        )
        old_incident = add(
            tables.alert_incidents,
            host="web1",
            metric="disk_percent",
            resource="/",
            status="ok",
            started_at=ago(401),
            resolved_at=ago(400),
            last_seen_at=ago(400),
            sample_count=3,
        )
        add(
            tables.alert_incidents,
            host="web1",
            metric="cpu_percent",
            resource="",
            status="ok",
            started_at=ago(11),
            resolved_at=ago(10),
            last_seen_at=ago(10),
            sample_count=3,
        )
        add(
            tables.alert_incidents,
            host="web1",
            metric="memory_percent",
            resource="",
            status="warning",
            started_at=ago(500),
            last_seen_at=NOW,
            sample_count=9,
        )  # active for 500 days: kept
        for days, until, removed in (
            (400, ago(399), None),
            (400, NOW + timedelta(days=1), ago(380)),
            (1, NOW + timedelta(days=1), None),
        ):
            add(tables.alert_silences, pattern="disk_*", created_at=ago(days), until=until, removed_at=removed)
        old_notification = add(
            tables.notifications,
            title="old",
            message="m",
            level="WARNING",
            channel="system_monitoring",
            sent_at=ago(400),
            incident_id=old_incident,
        )
        kept_notification = add(
            tables.notifications,
            title="recent",
            message="m",
            level="WARNING",
            channel="system_monitoring",
            sent_at=ago(1),
            system_metric_id=samples[200],
            job_execution_id=old_run,
            incident_id=old_incident,
        )
        for notification_id in (old_notification, kept_notification):
            add(
                tables.notification_deliveries,
                notification_id=notification_id,
                destination="json://x",
                destination_key="k",
                status="delivered",
                attempts=1,
                created_at=ago(1),
            )
        for instance, heartbeat in (("gone", ago(100)), ("alive", NOW)):
            add(
                tables.scheduler_instances,
                id=instance,
                hostname="h",
                pid=1,
                started_at=heartbeat,
                heartbeat_at=heartbeat,
            )
    engine.dispose()


def counts(url: str) -> dict[str, int]:
    return {
        name: fetch(url, f"SELECT count(*) FROM {name}")[0][0]
        for name in (
            "system_metrics",
            "system_metric_cpu_cores",
            "job_executions",
            "alert_incidents",
            "alert_silences",
            "notifications",
            "notification_deliveries",
            "scheduler_instances",
            "host_gaps",
        )
    }


SEEDED = {
    "system_metrics": 5,
    "system_metric_cpu_cores": 10,
    "job_executions": 3,
    "alert_incidents": 3,
    "alert_silences": 3,
    "notifications": 2,
    "notification_deliveries": 2,
    "scheduler_instances": 2,
    "host_gaps": 2,
}
PRUNED = {
    "system_metrics": 2,
    "system_metric_cpu_cores": 4,
    "job_executions": 2,
    "alert_incidents": 2,
    "alert_silences": 1,
    "notifications": 1,
    "notification_deliveries": 1,
    "scheduler_instances": 1,
    "host_gaps": 1,
}


def test_prune_deletes_what_is_older_than_each_setting_and_unlinks_what_pointed_at_it(
    workspace: Workspace, database_url: str
) -> None:
    assert_succeeded(main_py(workspace, database_url, "db", "init"))
    seed(database_url)

    dry = main_py(workspace, database_url, "db", "prune", "--dry-run")
    assert_succeeded(dry)
    assert (
        "system_metrics: 3 row(s) older than" in dry.stdout
        and "would be deleted (RETENTION_METRICS_DAYS)" in dry.stdout
    ), dry.stdout
    assert counts(database_url) == SEEDED  # a dry run writes nothing

    done = main_py(workspace, database_url, "db", "prune")
    assert_succeeded(done)
    for line in (
        "system_metrics: 3 row(s)",
        "notifications: 1 row(s)",
        "alert_incidents: 1 row(s)",
        "alert_silences: 2 row(s)",
        "job_executions: 1 row(s)",
        "scheduler_instances: 1 row(s)",
    ):
        assert line in done.stdout, (line, done.stdout)
    assert counts(database_url) == PRUNED
    assert sorted(row[0] for row in fetch(database_url, "SELECT cpu_percent FROM system_metrics")) == [1, 89]
    assert sorted(row[0] for row in fetch(database_url, "SELECT status FROM job_executions")) == ["failed", "running"]
    [(title, sample_id, run_id, incident_id)] = fetch(
        database_url, "SELECT title, system_metric_id, job_execution_id, incident_id FROM notifications"
    )
    assert (title, sample_id, run_id, incident_id) == ("recent", None, None, None)  # kept, links cleared
    assert [row[0] for row in fetch(database_url, "SELECT id FROM scheduler_instances")] == ["alive"]

    again = main_py(workspace, database_url, "db", "prune")
    assert_succeeded(again)
    assert "system_metrics: 0 row(s)" in again.stdout and counts(database_url) == PRUNED


def test_small_batches_give_the_same_result(workspace: Workspace) -> None:
    from storage.retention import prune

    url = f"sqlite:///{workspace.database}"
    assert_succeeded(main_py(workspace, url, "db", "init"))
    seed(url)
    engine = create_engine(url, poolclass=NullPool)
    results = prune(engine, RetentionSettings(90, 365, 90), NOW, batch_rows=1)
    engine.dispose()
    assert {result.table: result.rows for result in results} == {
        "system_metrics": 3,
        "host_gaps": 1,
        "notifications": 1,
        "alert_incidents": 1,
        "alert_silences": 2,
        "job_executions": 1,
        "scheduler_instances": 1,
    }
    assert counts(url) == PRUNED


def test_off_keeps_everything_and_bad_values_are_one_line(workspace: Workspace) -> None:
    url = f"sqlite:///{workspace.database}"
    assert_succeeded(main_py(workspace, url, "db", "init"))
    seed(url)
    off = {
        "RETENTION_METRICS_DAYS": "off",
        "RETENTION_NOTIFICATIONS_DAYS": "off",
        "RETENTION_JOB_EXECUTIONS_DAYS": "off",
    }
    kept = main_py(workspace, url, "db", "prune", **off)
    assert_succeeded(kept)
    assert "system_metrics: kept forever (RETENTION_METRICS_DAYS=off)" in kept.stdout
    assert counts(url) == SEEDED
    for key, value, allowed in (
        ("RETENTION_METRICS_DAYS", "0", "from 1 to 36500"),
        ("RETENTION_NOTIFICATIONS_DAYS", "a year", "or off to keep everything"),
    ):
        bad = main_py(workspace, url, "db", "prune", **{**off, key: value})
        assert (
            bad.returncode == 2
            and bad.stderr.startswith(f"configuration error: {key}={value!r} is invalid")
            and allowed in bad.stderr
            and len(bad.stderr.strip().splitlines()) == 1
        ), bad.stderr
    assert counts(url) == SEEDED


def test_db_init_registers_the_daily_retention_job_which_runs_prune(workspace: Workspace) -> None:
    url = f"sqlite:///{workspace.database}"
    init = main_py(workspace, url, "db", "init")
    assert_succeeded(init)
    assert "registered the built-in job data_retention" in init.stdout
    [(cron, job_type, enabled)] = fetch(
        url, "SELECT cron_expression, job_type, enabled FROM jobs WHERE name = 'data_retention'"
    )
    assert (cron, job_type, enabled) == ("17 3 * * *", "CLEANUP", 1)
    seed(url)
    assert_succeeded(main_py(workspace, url, "jobs", "run", "data_retention"))
    [(status, stdout)] = fetch(url, "SELECT status, stdout FROM job_executions WHERE job_name = 'data_retention'")
    assert status == "success" and "system_metrics: 3 row(s) older than" in stdout, stdout
    assert counts(url)["system_metrics"] == 2
