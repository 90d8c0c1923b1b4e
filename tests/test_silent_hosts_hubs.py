"""Silent hosts on real hubs: a host that pushes through POST /api/v1/ingest, falls silent and comes back with its
backlog; the real agent frozen and resumed; and two hubs (real `main.py serve` processes on two ports) sharing one
PostgreSQL database watching a host that falls silent and comes back: one incident row, and each of its events
notified and delivered once."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from db_servers import SERVERS, fetch
from sqlalchemy import create_engine, insert, update
from sqlalchemy.pool import NullPool

from monitoring.wire import batch_body
from storage import init_database, tables
from storage.types import utc_now
from tests.agent_process import agent_environ, start_agent, stop_agent
from tests.api_server import TOKEN, serving
from tests.fleet_pushes import FINGERPRINT, OUTBOX_ID, add_host, collected_sample, push, sample_at
from tests.test_delivery import Receiver

pytest_plugins = ["db_servers"]

FAST = {
    "API_TOKEN": TOKEN,
    "HOST_CHECK_INTERVAL_SECONDS": "1",
    "HOST_SILENT_AFTER": "2",  # the host samples every second: WARNING after 2 s, CRITICAL after 8 s
    "HOST_SILENT_CRITICAL_AFTER": "8",
    "NOTIFY_MIN_LEVEL": "INFO",
}


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {timeout} s")


def events(url: str) -> list[tuple[str, str]]:
    return [tuple(row) for row in fetch(url, "SELECT event, level FROM notifications ORDER BY id")]


def one_second_batch(first_seq: int, collected_at: list[float]) -> bytes:
    """An agent sampling every second: one entry per collection time, numbered from `first_seq`."""
    collected = collected_sample()
    entries = [
        (first_seq + index, at, sample_at(collected, datetime.fromtimestamp(at, timezone.utc), 5.0))
        for index, at in enumerate(collected_at)
    ]
    return batch_body(OUTBOX_ID, FINGERPRINT, "0.1.0", time.time(), 1.0, entries, [])


def silent_events(url: str) -> list[tuple[str, str, str]]:
    query = "SELECT event, level, message FROM notifications WHERE metric = 'host_silent' ORDER BY id"
    return [tuple(row) for row in fetch(url, query)]


@pytest.mark.slow
def test_a_host_that_stops_pushing_warns_escalates_and_resolves_when_its_backlog_arrives(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'automation.db'}"
    with serving(tmp_path, url, **FAST) as hub:
        key = add_host(hub, "web1")
        last_push = time.time()
        reply = push(hub, key, one_second_batch(1, [last_push]))
        assert reply.status == 200, reply.text
        wait_for(lambda: [event[:2] for event in silent_events(url)] == [("firing", "WARNING")], "a WARNING")
        wait_for(lambda: len(silent_events(url)) == 2, "an escalation")
        # The agent was up all along: its outbox sends what it collected meanwhile, oldest first.
        now = time.time()  # a sample every second until 1.5 s ago; the next is the one it pushes live
        backlog = [now - 1.5 - second for second in range(int(now - last_push - 2), -1, -1)]
        reply = push(hub, key, one_second_batch(2, backlog))
        assert reply.status == 200 and reply.json()["stored"] == len(backlog), reply.text
        wait_for(lambda: len(silent_events(url)) == 3, "the resolution")
    (firing, escalated, resolved) = silent_events(url)
    assert escalated[:2] == ("escalated", "CRITICAL")
    assert firing[2].startswith("web1 has not reported for ") and "(silent after 2s, critical after 8s)" in firing[2]
    assert resolved[:2] == ("resolved", "INFO")
    assert resolved[2].startswith("web1 reports again after ")
    assert resolved[2].endswith(f"backfill shows it was up and collecting throughout ({len(backlog)} samples)")


@pytest.mark.slow
def test_a_frozen_agent_is_silent_and_resolves_when_it_runs_again(tmp_path: Path) -> None:
    """The real agent (`main.py agent run`, every second) frozen with SIGSTOP: it collects nothing meanwhile."""
    url = f"sqlite:///{tmp_path / 'automation.db'}"
    slower = {**FAST, "HOST_SILENT_AFTER": "4", "HOST_SILENT_CRITICAL_AFTER": "10"}  # a busy machine's late push
    with serving(tmp_path, url, **slower) as hub:
        key = add_host(hub, "web1")
        log = tmp_path / "agent-run.log"
        env = agent_environ(tmp_path, AGENT_HUB_URL=hub.base_url, AGENT_HOST_KEY=key, AGENT_INTERVAL="1")
        agent = start_agent(env, log)
        try:
            wait_for(lambda: fetch(url, "SELECT last_seen_at FROM hosts")[0][0], "the agent's first push")
            agent.send_signal(signal.SIGSTOP)
            wait_for(
                lambda: [event[:2] for event in silent_events(url)][-1:] == [("escalated", "CRITICAL")], "CRITICAL"
            )
            agent.send_signal(signal.SIGCONT)
            wait_for(lambda: silent_events(url)[-1][0] == "resolved", "the resolution")
        finally:
            agent.send_signal(signal.SIGCONT)
            stop_agent(agent, log)
    firing, escalated, resolved = silent_events(url)[-3:]
    assert (firing[:2], escalated[:2], resolved[:2]) == (
        ("firing", "WARNING"),
        ("escalated", "CRITICAL"),
        ("resolved", "INFO"),
    )
    assert resolved[2].endswith("; no samples from the outage"), resolved[2]


@pytest.mark.slow
@pytest.mark.postgresql
def test_two_hubs_open_each_silent_host_incident_once(tmp_path: Path) -> None:
    receiver = Receiver()
    with SERVERS["postgresql"].fresh_database() as url, ExitStack() as hubs:
        init_database(url).dispose()
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as connection:
            connection.execute(insert(tables.hosts).values(name="web1", created_at=utc_now(), interval_seconds=1))
        settings = {**FAST, "NOTIFY_URLS": receiver.url()}
        for index in range(2):
            folder = tmp_path / f"hub{index}"
            folder.mkdir()
            hubs.enter_context(serving(folder, url, **settings))
        with engine.begin() as connection:  # its first push, with both hubs watching; then nothing
            connection.execute(update(tables.hosts).values(last_seen_at=utc_now()))
        wait_for(lambda: ("escalated", "CRITICAL") in events(url), "escalation to CRITICAL")

        def push() -> None:
            now = utc_now()
            with engine.begin() as connection:
                connection.execute(update(tables.hosts).values(last_seen_at=now, last_collected_at=now))

        push()  # the host is back
        wait_for(lambda: ("resolved", "INFO") in events(url), "resolution")
        for _ in range(6):  # and keeps pushing through a few more checks by each hub: nothing more may happen
            push()
            time.sleep(0.5)
        engine.dispose()
        assert events(url) == [("firing", "WARNING"), ("escalated", "CRITICAL"), ("resolved", "INFO")]
        assert [tuple(row) for row in fetch(url, "SELECT host, metric, status, peak_level FROM alert_incidents")] == [
            ("web1", "host_silent", "ok", "CRITICAL")
        ]
        wait_for(lambda: len(receiver.received) >= 3, "three deliveries")
    receiver.close()
    titles = [body["title"] for _, body in receiver.received]
    assert len(titles) == 3 and titles[2] == "[RESOLVED] web1 reports again", titles
    assert titles[0].startswith("[WARNING] web1 silent for ") and titles[1].startswith("[CRITICAL] web1 silent for ")
