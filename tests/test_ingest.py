"""The hub's ingest route against a real `main.py serve` on each database: a host's batch is stored once however
often it is replayed, graded with the hub's thresholds into incidents and notifications, a backlog's alerts are
recorded but not delivered, and every bad push is a 4xx naming what is wrong with nothing written."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from monitoring.sample import Sample
from monitoring.wire import IncomingGap
from tests.api_server import TOKEN, Server, main_py, serving
from tests.db_servers import database_url, fetch  # noqa: F401 - the fixture
from tests.fleet_pushes import FINGERPRINT, add_host, batch, collected_sample, push, sample_at

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def collected() -> Sample:
    return collected_sample()


@pytest.fixture
def hub(tmp_path: Path, database_url: str) -> Iterator[Server]:  # noqa: F811 - the fixture
    with serving(
        tmp_path, database_url, API_TOKEN=TOKEN, NOTIFY_URLS="json://127.0.0.1:9/", ALERT_DELIVERY_TIMEOUT_SECONDS="1"
    ) as server:
        yield server


def count(database_url: str, sql: str, **params: Any) -> int:  # noqa: F811 - a parameter, not the fixture
    return int(fetch(database_url, sql, **params)[0][0])


def test_a_batch_is_stored_once_graded_and_its_host_recorded(
    hub: Server,
    database_url: str,  # noqa: F811 - the fixture
    collected: Sample,
) -> None:
    key = add_host(hub, "web1")
    now = datetime.now(timezone.utc)
    body = batch(
        [(1, sample_at(collected, now - timedelta(seconds=30), 20.0)), (2, sample_at(collected, now, 99.0))],
        sent_at=time.time() + 120,  # the agent's clock runs two minutes ahead
        gaps=[IncomingGap(1, 1, 1, 1, 1000.0, 1000.0, "older than AGENT_OUTBOX_MAX_AGE (86400 s)")],
    )
    first = push(hub, key, body)
    assert first.status == 200, first.text
    stored = first.json()
    written = count(database_url, "SELECT COUNT(*) FROM notifications WHERE host = 'web1'")
    assert stored == {"host": "web1", "stored": 2, "duplicates": 0, "gaps_recorded": 1, "notifications": written}
    skew_seconds = fetch(database_url, "SELECT clock_skew_seconds FROM hosts WHERE name = 'web1'")[0][0]
    assert 100 < skew_seconds < 140, f"the agent's clock minus the hub's, at its last push: {skew_seconds}"

    replay = push(hub, key, body, compress=False)
    assert replay.json() == {"host": "web1", "stored": 0, "duplicates": 2, "gaps_recorded": 0, "notifications": 0}
    overlapping = push(hub, key, batch([(2, sample_at(collected, now, 99.0)), (3, sample_at(collected, now, 98.0))]))
    assert overlapping.json()["stored"] == 1 and overlapping.json()["duplicates"] == 1

    rows = fetch(database_url, "SELECT hostname, cpu_percent FROM system_metrics ORDER BY timestamp, id")
    assert [(row[0], row[1]) for row in rows] == [("web1", 20.0), ("web1", 99.0), ("web1", 98.0)]
    assert count(database_url, "SELECT COUNT(*) FROM system_metric_disks") > 0, "the details travel too"
    containers = fetch(
        database_url, "SELECT name, state, health, cpu_cores, oom_killed, pids FROM system_metric_containers"
    )
    assert [tuple(row) for row in containers] == [("web", "running", "unhealthy", 0.5, False, 3)] * 3
    unhealthy = "SELECT status FROM alert_incidents WHERE metric = 'container_unhealthy' AND resource = 'web'"
    assert [row[0] for row in fetch(database_url, unhealthy)] == ["warning"]
    notified = fetch(
        database_url, "SELECT host, metric, level, message FROM notifications WHERE metric = 'cpu_percent'"
    )
    assert [(row[0], row[1], row[2]) for row in notified] == [("web1", "cpu_percent", "CRITICAL")]
    assert "backfilled" not in notified[0][3]
    queued = "SELECT COUNT(*) FROM notification_deliveries"
    assert count(database_url, queued) == written, "live alerts are delivered"

    host = fetch(
        database_url,
        "SELECT agent_version, source, interval_seconds, fingerprint, last_seen_at, "
        "last_collected_at FROM hosts WHERE name = 'web1'",
    )[0]
    assert (host[0], host[1], host[2], host[3]) == ("0.1.0", "agent", 30.0, FINGERPRINT)
    assert host[4] is not None and host[5] is not None
    assert fetch(database_url, "SELECT first_seq, last_seq, samples, reason FROM host_gaps")[0][:3] == (1, 1, 1)
    assert fetch(database_url, "SELECT last_seq FROM host_outboxes")[0][0] == 3
    [listed] = main_py(hub.env, "hosts", "list").stdout.splitlines()
    assert listed.startswith("web1: up, last heard ") and "; agent 0.1.0, clock skew " in listed, listed
    assert "active incident(s), worst critical" in listed and listed.endswith("bound to a machine"), listed


def test_a_backlog_is_stored_and_graded_but_not_delivered_as_news(
    hub: Server,
    database_url: str,  # noqa: F811 - the fixture
    collected: Sample,
) -> None:
    key = add_host(hub, "db1")
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    reply = push(hub, key, batch([(1, sample_at(collected, an_hour_ago, 99.0))]))
    assert reply.status == 200 and reply.json()["notifications"] >= 1, reply.text
    message = fetch(database_url, "SELECT message FROM notifications WHERE host = 'db1' AND metric = 'cpu_percent'")[0][
        0
    ]
    assert "backfilled: collected 1h" in message, message
    assert count(database_url, "SELECT COUNT(*) FROM notification_deliveries") == 0
    incident = fetch(database_url, "SELECT status FROM alert_incidents WHERE host = 'db1' AND metric = 'cpu_percent'")
    assert incident[0][0] == "critical", "the incident still moves: the host's state is what its samples say"


REFUSALS: list[tuple[str, Callable[[str, bytes], tuple[str | None, bytes, dict[str, Any]]], int, str]] = [
    ("no key", lambda key, body: (None, body, {}), 401, "missing host key"),
    ("the API token", lambda key, body: (TOKEN, body, {}), 401, "missing host key"),
    ("an unknown key", lambda key, body: ("ahk_" + "x" * 43, body, {}), 401, "unknown or revoked host key"),
    ("a bad field", lambda key, body: (key, body.replace(b'"seq":1', b'"seq":-1'), {}), 422, "$.samples[0].seq"),
    ("not JSON", lambda key, body: (key, body[:50], {}), 422, "not JSON"),
    ("a NUL", lambda key, body: (key, body.replace(b'"0.1.0"', b'"0.1\\u0000"'), {}), 422, "NUL"),
    ("broken gzip", lambda key, body: (key, body, {"compress": False, "Content-Encoding": "gzip"}), 400, "gzip"),
    ("brotli", lambda key, body: (key, body, {"compress": False, "Content-Encoding": "br"}), 400, "Content-Encoding"),
    ("too large", lambda key, body: (key, body + b" " * 70000, {}), 413, "INGEST_MAX_BATCH_BYTES=65536"),
]


def test_bad_pushes_are_refused_with_the_reason_and_nothing_is_written(tmp_path: Path, collected: Sample) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with serving(tmp_path, url, API_TOKEN=TOKEN, INGEST_MAX_BATCH_BYTES="65536") as hub:
        key = add_host(hub, "web1")
        body = batch([(1, sample_at(collected, datetime.now(timezone.utc), 10.0))])
        for name, change, status, detail in REFUSALS:
            sent_key, sent_body, options = change(key, body)
            reply = push(hub, sent_key, sent_body, compress=options.pop("compress", True), **options)
            assert reply.status == status, (name, reply.status, reply.text)
            assert detail in reply.json()["detail"], (name, reply.json())
            assert "Traceback" not in hub.log.read_text(), name

        other_machine = push(hub, key, batch([(1, sample_at(collected, datetime.now(timezone.utc), 10.0))]))
        assert other_machine.status == 200, "the first push binds the key to its machine"
        cloned = push(hub, key, batch([(2, sample_at(collected, datetime.now(timezone.utc), 10.0))], fingerprint="c"))
        assert cloned.status == 403 and "hosts add" in cloned.json()["detail"], cloned.text

        on_jobs = hub.request("POST", "/jobs", {"name": "x", "cron_expression": "* * * * *"}, token=key)
        assert on_jobs.status == 401, "a host key opens the ingest route and nothing else"

        main_py(hub.env, "hosts", "revoke", "web1")
        revoked = push(hub, key, batch([(3, sample_at(collected, datetime.now(timezone.utc), 10.0))]))
        assert revoked.status == 401 and "revoked" in revoked.json()["detail"]
        assert count(url, "SELECT COUNT(*) FROM system_metrics") == 1, "only the one good push was stored"
        assert key not in hub.log.read_text(), "a host key is never logged"

    with serving(tmp_path, url, INGEST_ENABLED="false") as off:
        reply = push(off, key, body)
        assert reply.status == 404 and "INGEST_ENABLED=false" in reply.json()["detail"]


def test_the_wire_format_is_published(tmp_path: Path) -> None:
    with serving(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}") as hub:
        document = hub.ok("/openapi.json")
    operation = document["paths"]["/api/v1/ingest"]["post"]
    assert operation["security"] == [{"HOST_KEY": []}]
    schemas = document["components"]["schemas"]
    assert {"Batch", "Sample", "IncomingSample", "CpuReading", "Stored"} <= set(schemas)
    assert json.dumps(schemas["Batch"]).count("outbox_id") >= 1


def test_a_level_added_to_the_env_file_grades_the_next_push_without_a_restart(
    tmp_path: Path, collected: Sample
) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with serving(tmp_path, url, API_TOKEN=TOKEN) as hub:
        key = add_host(hub, "gpu-box")
        now = datetime.now(timezone.utc)
        assert push(hub, key, batch([(1, sample_at(collected, now, 99.0))])).status == 200
        env_file = Path(hub.env["AUTOMATION_ENV_FILE"])
        with env_file.open("a") as appended:
            appended.write("CPU_THRESHOLD_OVERRIDES=@gpu-box=off\nCPU_CRITICAL_THRESHOLD_OVERRIDES=@gpu-box=off\n")
        assert push(hub, key, batch([(2, sample_at(collected, now + timedelta(seconds=30), 99.0))])).status == 200
    events = fetch(url, "SELECT event FROM notifications WHERE host = 'gpu-box' AND metric = 'cpu_percent' ORDER BY id")
    assert [row[0] for row in events] == ["firing", "resolved"], events
