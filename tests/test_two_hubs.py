"""Two hub processes behind one PostgreSQL database, as behind a load balancer: hosts push to either, a push is
repeated to both at once (a client retrying through the other hub), and still every sample is stored once and
each incident is opened, and resolved, once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.api_server import TOKEN, serving
from tests.db_servers import SERVERS, fetch
from tests.fleet_pushes import add_host, batch, collected_sample, push, sample_at

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]
HOSTS = ("web1", "web2", "web3")
# Per push: CPU % of its two samples. The incident fires on the second push and resolves on the fourth.
CPU_BY_PUSH = ((20.0, 30.0), (97.0, 98.0), (99.0, 96.0), (40.0, 35.0), (30.0, 20.0))


def test_two_hubs_store_each_sample_once_and_open_each_incident_once(tmp_path: Path) -> None:
    sample = collected_sample()
    with SERVERS["postgresql"].fresh_database() as url:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        with (
            serving(tmp_path / "a", url, API_TOKEN=TOKEN) as hub_a,
            serving(tmp_path / "b", url, API_TOKEN=TOKEN) as hub_b,
        ):
            keys = {name: add_host(hub_a, name) for name in HOSTS}
            start = datetime.now(timezone.utc) - timedelta(minutes=len(CPU_BY_PUSH))
            with ThreadPoolExecutor(max_workers=8) as pool:
                for index, cpu in enumerate(CPU_BY_PUSH):
                    taken = start + timedelta(minutes=index)
                    futures = []
                    for number, name in enumerate(HOSTS):
                        seqs = (2 * index + 1, 2 * index + 2)
                        body = batch(
                            [
                                (seqs[0], sample_at(sample, taken, cpu[0])),
                                (seqs[1], sample_at(sample, taken + timedelta(seconds=30), cpu[1])),
                            ],
                            fingerprint=name,
                        )
                        first, second = (hub_a, hub_b) if (index + number) % 2 else (hub_b, hub_a)
                        futures.append(pool.submit(push, first, keys[name], body))
                        if index % 2:  # every other push also reaches the other hub at the same moment
                            futures.append(pool.submit(push, second, keys[name], body))
                    replies = [future.result() for future in futures]
                    assert all(reply.status == 200 for reply in replies), [reply.text for reply in replies]

        for name in HOSTS:
            stored = fetch(
                url, "SELECT COUNT(*), COUNT(DISTINCT timestamp) FROM system_metrics WHERE hostname = :h", h=name
            )
            assert tuple(stored[0]) == (10, 10), (name, stored)
            incidents = fetch(
                url, "SELECT status, peak_level FROM alert_incidents WHERE host = :h AND metric = 'cpu_percent'", h=name
            )
            assert [tuple(row) for row in incidents] == [("ok", "CRITICAL")], (name, incidents)
            events = fetch(
                url,
                "SELECT event, level FROM notifications WHERE host = :h AND metric = 'cpu_percent' ORDER BY id",
                h=name,
            )
            assert [tuple(row) for row in events] == [("firing", "CRITICAL"), ("resolved", "INFO")], (name, events)
        assert fetch(url, "SELECT COUNT(*) FROM host_outboxes")[0][0] == len(HOSTS)
