"""The hub's silent-host check on real databases, with the time passed in (no sleeping): a host that stops pushing
is WARNING, then CRITICAL, and resolved with its outage and what its backfill showed; never-seen hosts and hosts in
maintenance are left alone; after the hubs were down hosts get a grace period; many silent at once are one fleet
incident."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from config.settings import Settings
from fleet.silent_hosts import SilentHostWatch, check_silent_hosts
from storage import init_database, tables
from storage.types import utc_now
from tests.test_delivery import Receiver

pytest_plugins = ["db_servers"]

T0 = utc_now().replace(microsecond=0)  # real time: deliveries are judged against the clock
CHECKS_APART = {"HOST_CHECK_INTERVAL_SECONDS": "3600"}  # no grace between the tests' checks, however far apart


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = init_database(database_url)
    with engine.begin() as connection:  # a hub checked just now: no grace period
        connection.execute(insert(tables.fleet_state).values(id=1, checked_at=T0))
    yield engine


def add_host(engine: Engine, name: str, last_seen: datetime | None, interval: float | None = 30, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(tables.hosts).values(
                name=name,
                created_at=T0 - timedelta(days=1),
                last_seen_at=last_seen,
                interval_seconds=interval,
                **values,
            )
        )


def pushed(engine: Engine, name: str, at: datetime, collected_at: datetime | None = None) -> None:
    """What the ingest records of a push: when it came, and its newest sample's collection time."""
    with engine.begin() as connection:
        connection.execute(
            update(tables.hosts)
            .where(tables.hosts.c.name == name)
            .values(last_seen_at=at, last_collected_at=collected_at or at)
        )


def samples(engine: Engine, name: str, times: list[datetime]) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(tables.system_metrics), [{"timestamp": at, "hostname": name, "platform": "linux"} for at in times]
        )


def rows(engine: Engine, table: str, *columns: str) -> list[tuple[Any, ...]]:
    chosen = tables.metadata.tables[table]
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(select(*(chosen.c[column] for column in columns)).order_by(chosen.c.id))
        ]


def check(engine: Engine, settings: Settings, seconds: float) -> int:
    """A check `seconds` after T0; the notifications it wrote."""
    return check_silent_hosts(engine, settings, T0 + timedelta(seconds=seconds)).notifications


def test_a_silent_host_warns_escalates_and_resolves_with_what_its_backfill_showed(
    engine: Engine, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(**CHECKS_APART)  # 30 s interval: silent after 1m 30s, critical after 5m
    add_host(engine, "web1", T0 - timedelta(seconds=10))
    assert check(engine, settings, 0) == 0
    assert check(engine, settings, 100) == 1
    assert check(engine, settings, 105) == 0  # still WARNING: nothing new
    assert check(engine, settings, 400) == 1
    # It was up all along: its outbox delivers the samples of the outage, then it pushes live again.
    samples(engine, "web1", [T0 + timedelta(seconds=15 + 30 * index) for index in range(13)])
    pushed(engine, "web1", T0 + timedelta(seconds=410), T0 + timedelta(seconds=405))
    assert check(engine, settings, 415) == 1
    assert check(engine, settings, 420) == 0

    titles = rows(engine, "notifications", "title", "message", "level", "event", "metric", "host", "resource")
    last_push = (T0 - timedelta(seconds=10)).strftime("%Y-%m-%d %H:%M:%S")
    assert titles == [
        (
            "[WARNING] web1 silent for 1m 50s",
            f"web1 has not reported for 1m 50s (silent after 1m 30s, critical after 5m); last push {last_push} UTC",
            "WARNING",
            "firing",
            "host_silent",
            "web1",
            None,
        ),
        (
            "[CRITICAL] web1 silent for 6m 50s (up from WARNING)",
            f"web1 has not reported for 6m 50s (silent after 1m 30s, critical after 5m); last push {last_push} UTC",
            "CRITICAL",
            "escalated",
            "host_silent",
            "web1",
            None,
        ),
        (
            "[RESOLVED] web1 reports again",
            f"web1 reports again after 7m without a push ({last_push} to "
            f"{(T0 + timedelta(seconds=410)):%H:%M:%S} UTC); backfill shows it was up and collecting throughout "
            "(13 samples)",
            "INFO",
            "resolved",
            "host_silent",
            "web1",
            None,
        ),
    ]
    [incident] = rows(engine, "alert_incidents", "host", "metric", "resource", "status", "peak_level")
    assert incident == ("web1", "host_silent", "", "ok", "CRITICAL")


def test_a_host_back_without_backfill_says_so_and_waits_for_its_backlog_first(
    engine: Engine, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(**CHECKS_APART)
    add_host(engine, "db1", T0)
    add_host(engine, "db2", T0)
    assert check(engine, settings, 100) == 2
    pushed(engine, "db1", T0 + timedelta(seconds=200))  # a restarted agent without a backlog
    pushed(engine, "db2", T0 + timedelta(seconds=200), T0 + timedelta(seconds=30))  # still sending its backlog
    assert check(engine, settings, 201) == 1
    messages = [row[0] for row in rows(engine, "notifications", "message")]
    assert messages[-1].startswith("db1 reports again after 3m 20s without a push (")
    assert messages[-1].endswith("UTC); no samples from the outage")
    samples(engine, "db2", [T0 + timedelta(seconds=second) for second in (30, 120)])
    pushed(engine, "db2", T0 + timedelta(seconds=202), T0 + timedelta(seconds=200))  # caught up
    assert check(engine, settings, 203) == 1
    part = f"({(T0 + timedelta(seconds=30)):%H:%M:%S} to {(T0 + timedelta(seconds=120)):%H:%M:%S} UTC)"
    assert rows(engine, "notifications", "message")[-1][0].endswith(f"backfill has 2 samples from part of it {part}")


def test_never_seen_hosts_and_hosts_in_maintenance_are_not_silent(
    engine: Engine, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(**CHECKS_APART)
    add_host(engine, "new1", None)
    add_host(engine, "away1", T0 - timedelta(hours=5), maintenance_since=T0 - timedelta(hours=6))
    report = check_silent_hosts(engine, settings, T0 + timedelta(hours=1))
    assert (report.watched, report.silent, report.notifications) == (0, 0, 0)
    assert rows(engine, "alert_incidents", "id") == []


def test_after_the_hubs_were_down_hosts_get_a_grace_period(
    engine: Engine, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(HOST_CHECK_INTERVAL_SECONDS="10")
    with engine.begin() as connection:
        connection.execute(update(tables.fleet_state).values(checked_at=T0 - timedelta(hours=1)))
    add_host(engine, "web1", T0 - timedelta(hours=1))  # its pushes had nowhere to go
    add_host(engine, "web2", T0 - timedelta(hours=1), interval=10)
    report = check_silent_hosts(engine, settings, T0)
    assert report.grace_until == T0 + timedelta(seconds=90)  # the longest silent delay of the hosts
    assert report.notifications == 0
    for second in range(10, 90, 10):  # web2's agent reconnected and pushes again
        pushed(engine, "web2", T0 + timedelta(seconds=second))
        assert check(engine, settings, second) == 0
    pushed(engine, "web2", T0 + timedelta(seconds=95))
    assert check(engine, settings, 100) == 1  # web1 never came back: past its critical delay at once
    assert rows(engine, "alert_incidents", "host", "status") == [("web1", "critical")]
    with engine.connect() as connection:
        assert connection.execute(select(tables.fleet_state.c.checked_at)).scalar_one() == T0 + timedelta(seconds=100)


def test_many_hosts_silent_at_once_are_one_fleet_incident(
    engine: Engine, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(**CHECKS_APART, HOST_SILENT_FLEET_MIN_HOSTS="5", HOST_SILENT_FLEET_MIN_PERCENT="50")
    names = [f"node{index:02}" for index in range(10)]
    for name in names:
        add_host(engine, name, T0)
    for name in names[6:]:  # the first six lose their uplink; the others keep pushing
        pushed(engine, name, T0 + timedelta(seconds=95))
    assert check(engine, settings, 100) == 1
    [(title, message, host, metric, value)] = rows(
        engine, "notifications", "title", "message", "host", "metric", "value"
    )
    assert (title, host, metric, value) == ("[WARNING] 6 of 10 hosts silent", "fleet", "hosts_silent", 6)
    assert message == (
        "6 of 10 hosts have not reported for their silent delay (one fleet incident from 5 silent hosts instead of "
        "one each): node00, node01, node02, node03, node04, node05"
    )
    for name in names[6:]:
        pushed(engine, name, T0 + timedelta(seconds=395))
    assert check(engine, settings, 400) == 1  # past their critical delay: the fleet incident escalates
    for name in names[:4] + names[6:]:
        pushed(engine, name, T0 + timedelta(seconds=500))
    assert check(engine, settings, 501) == 3  # fleet resolved; the two still silent fire on their own
    events = rows(engine, "notifications", "title", "host")[1:]
    assert events == [
        ("[CRITICAL] 6 of 10 hosts silent (up from WARNING)", "fleet"),
        ("[CRITICAL] node04 silent for 8m 21s", "node04"),
        ("[CRITICAL] node05 silent for 8m 21s", "node05"),
        ("[RESOLVED] the fleet reports again", "fleet"),
    ]
    assert rows(engine, "notifications", "message")[-1][0].startswith(
        "2 of 10 hosts silent now, fewer than 5, after 6m 41s; at most 6 were silent at once: node04, node05; "
    )
    assert sorted(rows(engine, "alert_incidents", "host", "metric", "status")) == [
        ("fleet", "hosts_silent", "ok"),
        ("node04", "host_silent", "critical"),
        ("node05", "host_silent", "critical"),
    ]


def test_silent_host_notifications_are_delivered_like_any_alert(
    engine: Engine, settings_for: Callable[..., Settings]
) -> None:
    receiver = Receiver()
    try:
        settings = settings_for(**CHECKS_APART, NOTIFY_URLS=receiver.url(), NOTIFY_MIN_LEVEL="INFO")
        add_host(engine, "web1", T0)
        assert check(engine, settings, 100) == 1
        pushed(engine, "web1", T0 + timedelta(seconds=110))
        assert check(engine, settings, 111) == 1
    finally:
        receiver.close()
    assert [body["title"] for _, body in receiver.received] == [
        "[WARNING] web1 silent for 1m 40s",
        "[RESOLVED] web1 reports again",
    ]
    assert [status for (status,) in rows(engine, "notification_deliveries", "status")] == ["delivered", "delivered"]


def test_the_first_check_makes_the_fleet_state_row_and_grants_grace(
    database_url: str, settings_for: Callable[..., Settings]
) -> None:
    engine = init_database(database_url)  # no fleet_state row yet: no hub ever checked
    add_host(engine, "web1", T0 - timedelta(hours=1))
    settings = settings_for(**CHECKS_APART)
    report = check_silent_hosts(engine, settings, T0)
    assert (report.notifications, report.grace_until) == (0, T0 + timedelta(seconds=90))
    assert check(engine, settings, 10) == 0
    assert check(engine, settings, 91) == 1
    assert rows(engine, "fleet_state", "id") == [(1,)]


@pytest.mark.slow
def test_a_failing_check_is_one_logged_line_until_it_works_again(
    tmp_path: Path, settings_for: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """The watch keeps checking every HOST_CHECK_INTERVAL_SECONDS; a database it cannot reach is logged once."""
    unreachable = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", poolclass=NullPool)
    working = init_database(f"sqlite:///{tmp_path / 'a.db'}")
    engines = [unreachable] * 3 + [working]
    calls: list[Engine] = []

    def engine_of() -> Engine:
        calls.append(engines[min(len(calls), len(engines) - 1)])
        return calls[-1]

    watch = SilentHostWatch(engine_of, settings_for(HOST_CHECK_INTERVAL_SECONDS="1"))
    with caplog.at_level(logging.INFO, logger="automation.fleet"):
        watch.start()
        deadline = time.monotonic() + 30
        while len(calls) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        watch.stop()
    lines = [record.getMessage() for record in caplog.records if record.name == "automation.fleet"]
    assert len(calls) >= 5, "the watch kept checking"
    assert len(lines) == 2 and lines[1] == "silent-host check works again", lines
    assert lines[0].startswith("silent-host check failed: OperationalError: "), lines
