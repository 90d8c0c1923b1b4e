"""/monitoring/metrics and /monitoring/stats answered from what the server keeps between requests, over a real
server and SQLite file: a sample stored (or deleted) by another process shows in the very next answer, and
different queries get their own answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, delete
from sqlalchemy.pool import NullPool

from storage import tables
from tests.api_server import Server, environ, insert_rows, main_py, minute_samples, serving, utc

START = datetime(2026, 4, 1, tzinfo=timezone.utc)
EARLIER = datetime(2026, 1, 1, tzinfo=timezone.utc)  # host old's samples, the oldest ones


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database holding per-minute samples: 30 of host web and 10 of host db from START, 10 of host old from
    EARLIER. Each test changes the samples of one host only."""
    tmp = tmp_path_factory.mktemp("cache")
    url = f"sqlite:///{tmp / 'automation.db'}"
    main_py(environ(tmp, url), "db", "init")
    rows = minute_samples("web", START, 30) + minute_samples("db", START, 10) + minute_samples("old", EARLIER, 10)
    insert_rows(url, "system_metrics", rows)
    return url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, url: str) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("server"), url) as running:
        yield running


def times(server: Server, query: str) -> list[datetime]:
    return [utc(row["timestamp"]) for row in server.ok(f"/monitoring/metrics?{query}")["items"]]


def samples_of(server: Server, hostname: str) -> int:
    [host] = [host for host in server.ok("/monitoring/stats")["hosts"] if host["hostname"] == hostname]
    return host["samples"]


def test_a_new_sample_shows_in_the_next_answer(server: Server, url: str) -> None:
    newest = max(times(server, "hostname=web&limit=1"))
    assert times(server, "hostname=web&limit=2") == [newest, newest - timedelta(minutes=1)]
    assert times(server, "hostname=web&limit=2") == [newest, newest - timedelta(minutes=1)]  # the kept answer
    samples = samples_of(server, "web")
    insert_rows(url, "system_metrics", minute_samples("web", newest + timedelta(minutes=1), 1))
    assert times(server, "hostname=web&limit=2") == [newest + timedelta(minutes=1), newest]
    assert samples_of(server, "web") == samples + 1
    hour = f"hostname=web&step=1h&start_time={START:%Y-%m-%dT%H:%M:%SZ}&end_time=2026-04-01T00:59:59Z"
    assert [bucket["samples"] for bucket in server.ok(f"/monitoring/metrics?{hour}")["items"]] == [samples + 1]


def test_deleted_samples_leave_the_next_answer(server: Server, url: str) -> None:
    assert samples_of(server, "old") == 10 and len(times(server, "hostname=old&limit=1000")) == 10
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:  # what retention does: the oldest samples go
        metrics = tables.system_metrics
        connection.execute(delete(metrics).where(metrics.c.timestamp < EARLIER + timedelta(minutes=4)))
    engine.dispose()
    assert samples_of(server, "old") == 6
    assert min(times(server, "hostname=old&limit=1000")) == EARLIER + timedelta(minutes=4)


def test_different_queries_get_their_own_answers(server: Server) -> None:
    newest = START + timedelta(minutes=9)  # of host db
    assert times(server, "hostname=db&limit=2") == [newest, newest - timedelta(minutes=1)]
    assert times(server, "hostname=db&limit=3") == [newest - timedelta(minutes=n) for n in range(3)]
    assert times(server, "hostname=db&limit=2&offset=1") == [newest - timedelta(minutes=n) for n in (1, 2)]
    assert times(server, f"hostname=db&limit=2&end_time={START + timedelta(minutes=3):%Y-%m-%dT%H:%M:%SZ}") == [
        START + timedelta(minutes=3),
        START + timedelta(minutes=2),
    ]
    assert {row["hostname"] for row in server.ok("/monitoring/metrics?hostname=old")["items"]} == {"old"}
    hour = f"hostname=db&start_time={START:%Y-%m-%dT%H:%M:%SZ}&end_time=2026-04-01T00:59:59Z"
    assert [bucket["samples"] for bucket in server.ok(f"/monitoring/metrics?{hour}&step=1h")["items"]] == [10]
    assert [bucket["samples"] for bucket in server.ok(f"/monitoring/metrics?{hour}&step=5m")["items"]] == [5, 5]
