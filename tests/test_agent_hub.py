"""The fleet agent against a real hub: `main.py serve` with a host added by `main.py hosts add`, and the agent as
a real process (under the import guard of tests.agent_process) pushing to POST /api/v1/ingest.

Nothing lost, nothing twice: samples collected while the hub is down arrive once it is back; an agent killed
with -9 in the middle of draining a backlog loses nothing and duplicates nothing once restarted; a revoked key is
one 401 line in the agent's log, nothing stored, and the samples wait for the new key.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.agent_process import agent_environ, outbox_counts, start_agent, state, stop_agent, wait_for
from tests.api_server import environ, free_port, main_py, serving, wait_until_serving
from tests.conftest import MAIN
from tests.test_hub_tls import self_signed

pytestmark = pytest.mark.slow
HOST = "web-1"


class Hub:
    """`main.py serve` on a fixed port over one SQLite database, so it can be stopped and started again."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = tmp / "hub.db"
        self.env = environ(tmp, f"sqlite:///{self.database}", API_PORT=str(self.port))
        self.log = tmp / "hub.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, str(MAIN), "serve"], env=self.env, stdout=output, stderr=subprocess.STDOUT
            )
        wait_until_serving(self.process, self.url, self.log)

    def stop(self) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout=60)
        assert code == 0, f"the hub exited {code}: {self.log.read_text()}"

    def add_host(self, name: str) -> str:
        """The key `hosts add` prints, once."""
        return main_py(self.env, "hosts", "add", name).stdout.strip()

    def stored(self) -> tuple[int, int]:
        return stored(self.database)


def stored(database: Path) -> tuple[int, int]:
    """(rows of HOST in system_metrics, distinct timestamps among them)."""
    with closing(sqlite3.connect(database, timeout=30)) as connection:
        rows, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT timestamp) FROM system_metrics WHERE hostname = ?", (HOST,)
        ).fetchone()
    return rows, distinct


@contextmanager
def hub_running(tmp: Path) -> Iterator[Hub]:
    hub = Hub(tmp)
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


def everything_arrived(hub: Hub, tmp: Path) -> bool:
    return everything_arrived_at(hub.database, tmp)


def everything_arrived_at(database: Path, tmp: Path) -> bool:
    """The outbox under `tmp` is empty and `database` holds one row for each sample it ever numbered."""
    last_seq, waiting = outbox_counts(tmp)
    return waiting == 0 and last_seq > 0 and stored(database) == (last_seq, last_seq)


def assert_each_sample_once(database: Path, tmp: Path) -> None:
    """Each sample the outbox under `tmp` numbered is in `database` once, or still waits in the outbox: the agent
    keeps sampling until it stops, so one or two taken after the last check may wait there (the next start sends
    them), which is not a loss."""
    last_seq, waiting = outbox_counts(tmp)
    rows, distinct = stored(database)
    assert rows == distinct and rows + waiting == last_seq and waiting <= 2, (rows, distinct, last_seq, waiting)


OUTAGE_SECONDS = 120  # "some minutes": long enough for the backoff to reach its cap many times over


def test_samples_collected_while_the_hub_is_down_arrive_exactly_once(tmp_path: Path) -> None:
    hub = Hub(tmp_path)
    hub.start()
    key = hub.add_host(HOST)
    env = agent_environ(
        tmp_path, AGENT_HUB_URL=hub.url, AGENT_HOST_KEY=key, AGENT_INTERVAL="1", AGENT_RETRY_MAX_SECONDS="5"
    )
    log = tmp_path / "agent-run.log"
    agent = start_agent(env, log)
    try:
        wait_for(lambda: hub.stored()[0] >= 3, "three samples at the hub", log=log)
        hub.stop()
        before_outage = outbox_counts(tmp_path)[0]
        time.sleep(OUTAGE_SECONDS)
        during_outage = outbox_counts(tmp_path)[0] - before_outage
        assert during_outage >= OUTAGE_SECONDS // 2, f"{during_outage} samples in a {OUTAGE_SECONDS} s outage"
        assert state(tmp_path)["last_error"] is not None
        hub.start()
        wait_for(lambda: everything_arrived(hub, tmp_path), "the outage's samples at the hub", timeout=120, log=log)
        arrived_through = outbox_counts(tmp_path)[0]
    finally:
        stop_agent(agent, log)
        if hub.process is not None and hub.process.poll() is None:
            hub.stop()
    assert_each_sample_once(hub.database, tmp_path)
    assert hub.stored()[0] >= arrived_through
    text = log.read_text()
    assert text.count("retrying with backoff") == 1 and "the hub took a push again" in text
    assert key not in text and key not in hub.log.read_text()
    assert state(tmp_path)["last_push_at"] is not None


def fill_outbox(tmp: Path, count: int) -> None:
    """`count` real samples of this machine, 30 s apart, the last an hour ago, and one taken now: a backlog as
    after a long outage."""
    from agent.outbox import Outbox
    from config.settings import parse_collector_settings
    from monitoring.collectors.registry import collect_sample
    from monitoring.snapshot import live_snapshot
    from monitoring.wire import encode_sample

    settings = parse_collector_settings({})
    sample = collect_sample(settings, live_snapshot(settings))
    start = datetime.now(timezone.utc) - timedelta(hours=1, seconds=30 * count)
    box = Outbox(tmp / "agent" / "outbox.db", max_age_seconds=86400, max_bytes=2**30)
    try:
        for index in range(count):
            moment = start + timedelta(seconds=30 * index)
            box.append(encode_sample(dataclasses.replace(sample, timestamp=moment)), moment.timestamp())
        box.append(encode_sample(sample), sample.timestamp.timestamp())
    finally:
        box.close()


def test_an_agent_killed_while_draining_a_backlog_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    fill_outbox(tmp_path, 1200)
    with hub_running(tmp_path) as hub:
        key = hub.add_host(HOST)
        env = agent_environ(
            tmp_path, AGENT_HUB_URL=hub.url, AGENT_HOST_KEY=key, AGENT_INTERVAL="1", AGENT_BATCH_SIZE="40"
        )
        log = tmp_path / "agent-run.log"
        agent = start_agent(env, log)
        try:
            wait_for(lambda: hub.stored()[0] >= 80, "the backlog draining", log=log)
        finally:
            os.kill(agent.pid, signal.SIGKILL)  # in the middle of the back-to-back pushes
            agent.wait(timeout=10)
        assert 0 < outbox_counts(tmp_path)[1] < 1201  # killed half way
        agent = start_agent(env, log)
        try:
            wait_for(lambda: everything_arrived(hub, tmp_path), "the rest of the backlog", timeout=180, log=log)
        finally:
            stop_agent(agent, log)
        assert_each_sample_once(hub.database, tmp_path)


def test_a_revoked_key_is_one_401_line_nothing_stored_and_a_new_key_sends_what_waited(tmp_path: Path) -> None:
    with hub_running(tmp_path) as hub:
        key = hub.add_host(HOST)
        main_py(hub.env, "hosts", "revoke", HOST)
        env = agent_environ(tmp_path, AGENT_HUB_URL=hub.url, AGENT_HOST_KEY=key, AGENT_INTERVAL="1")
        log = tmp_path / "agent-run.log"
        agent = start_agent(env, log)
        try:
            wait_for(lambda: outbox_counts(tmp_path)[0] >= 4 if (tmp_path / "agent").exists() else 0, "samples")
            wait_for(lambda: "401" in (state(tmp_path).get("last_error") or ""), "the 401", log=log)
        finally:
            stop_agent(agent, log)
        refused = [line for line in log.read_text().splitlines() if "HTTP 401" in line]
        assert len(refused) == 1 and "the hub refused the push" in refused[0], log.read_text()
        assert hub.stored() == (0, 0)
        waiting = outbox_counts(tmp_path)[1]
        assert waiting >= 4

        new_key = main_py(hub.env, "hosts", "rotate", HOST).stdout.strip()
        env = agent_environ(tmp_path, AGENT_HUB_URL=hub.url, AGENT_HOST_KEY=new_key, AGENT_INTERVAL="1")
        agent = start_agent(env, log)
        try:
            wait_for(lambda: everything_arrived(hub, tmp_path), "what waited, with the new key", log=log)
        finally:
            stop_agent(agent, log)
        assert_each_sample_once(hub.database, tmp_path)


def test_what_the_age_bound_dropped_reaches_the_hub_as_a_gap(tmp_path: Path) -> None:
    """An agent started after a long stop drops what is past AGENT_OUTBOX_MAX_AGE before sending anything."""
    fill_outbox(tmp_path, 100)  # from 1 h 50 min to 1 h ago: the oldest 20 min are past 1.5 h
    with hub_running(tmp_path) as hub:
        key = hub.add_host(HOST)
        env = agent_environ(
            tmp_path, AGENT_HUB_URL=hub.url, AGENT_HOST_KEY=key, AGENT_INTERVAL="1", AGENT_OUTBOX_MAX_AGE="5400"
        )
        log = tmp_path / "agent-run.log"
        agent = start_agent(env, log)
        try:
            wait_for(lambda: hub.stored()[0] > 0 and outbox_counts(tmp_path)[1] == 0, "the backlog sent", log=log)
        finally:
            stop_agent(agent, log)
        with closing(sqlite3.connect(hub.database, timeout=30)) as connection:
            gaps = connection.execute("SELECT first_seq, last_seq, samples, reason FROM host_gaps").fetchall()
        assert len(gaps) == 1, gaps
        first_seq, last_seq, samples, reason = gaps[0]
        assert first_seq == 1 and samples == last_seq and 30 <= samples <= 45 and "AGENT_OUTBOX_MAX_AGE" in reason
        last_seq, waiting = outbox_counts(tmp_path)
        assert hub.stored()[0] + waiting == last_seq - samples and waiting <= 2  # the rest arrived, once each
        assert state(tmp_path)["backlog"]["gaps"] == 0  # acknowledged


def test_tls_is_verified_against_agent_ca_file(tmp_path: Path) -> None:
    """A hub with a certificate of its own: refused (one line) by an agent that does not trust it, its samples
    taken by one whose AGENT_CA_FILE holds it."""
    cert, cert_key = self_signed(tmp_path, "hub")
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    trusting = ssl.create_default_context(cafile=str(cert))
    with serving(tmp_path, url, tls=trusting, API_TLS_CERT_FILE=str(cert), API_TLS_KEY_FILE=str(cert_key)) as hub:
        key = main_py(hub.env, "hosts", "add", HOST).stdout.strip()
        log = tmp_path / "agent-run.log"
        untrusting = start_agent(
            agent_environ(tmp_path, AGENT_HUB_URL=hub.base_url, AGENT_HOST_KEY=key, AGENT_INTERVAL="1"), log
        )
        try:
            wait_for(lambda: "certificate verify failed" in (state(tmp_path).get("last_error") or ""), "refusal")
        finally:
            stop_agent(untrusting, log)
        assert [line for line in log.read_text().splitlines() if "certificate verify failed" in line] != []
        env = agent_environ(
            tmp_path, AGENT_HUB_URL=hub.base_url, AGENT_HOST_KEY=key, AGENT_INTERVAL="1", AGENT_CA_FILE=str(cert)
        )
        agent = start_agent(env, log)
        try:
            wait_for(lambda: everything_arrived_at(tmp_path / "hub.db", tmp_path), "the samples over TLS", log=log)
        finally:
            stop_agent(agent, log)
