"""/monitoring/* over a real server and a SQLite database filled by the real monitor (and, for the charts, by
rows of known values): shapes, time parsing, downsampling against a Python recomputation, 422s and 404s."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from tests.api_server import (
    Server,
    assert_buckets,
    environ,
    insert_rows,
    main_py,
    minute_samples,
    serving,
    utc,
)

SYNTHETIC = "synthetic-host"
START = datetime(2026, 3, 1, 0, 0, 30, 250000, tzinfo=timezone.utc)
COUNT = 600  # one sample every 37 s: buckets hold uneven numbers of samples


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("monitoring")
    url = f"sqlite:///{tmp / 'automation.db'}"
    levels = {"MEMORY_THRESHOLD": "0.5", "MEMORY_CRITICAL_THRESHOLD": "1"}  # every run breaches
    env = environ(tmp, url, **levels)
    main_py(env, "db", "init")
    for _ in range(2):
        main_py(env, "monitor", "--quiet")
    insert_rows(url, "system_metrics", minute_samples(SYNTHETIC, START, COUNT, every_seconds=37))
    with serving(tmp, url, **levels) as running:
        yield running


def test_latest_is_the_newest_stored_sample_with_its_details(server: Server) -> None:
    latest = server.ok("/monitoring/metrics/latest")
    assert latest["hostname"] != SYNTHETIC and latest["id"] == 2  # the synthetic rows are older
    assert 0 <= latest["cpu_percent"] <= 100 and latest["memory_total_gb"] > 0
    assert latest["cpu_cores"] and all("percent" in core for core in latest["cpu_cores"])
    assert {row["collector"] for row in latest["collectors"]} >= {"cpu", "memory", "disk", "network"}
    assert utc(latest["timestamp"]).tzinfo is not None and latest["timestamp"].endswith("+00:00")
    synthetic = server.ok(f"/monitoring/metrics/latest?hostname={SYNTHETIC}")
    assert utc(synthetic["timestamp"]) == START + timedelta(seconds=(COUNT - 1) * 37)
    assert server.get("/monitoring/metrics/latest?hostname=nowhere").status == 404


def test_current_is_a_live_sample_in_the_stored_shape(server: Server) -> None:
    current = server.ok("/monitoring/metrics/current")
    latest = server.ok("/monitoring/metrics/latest")
    assert current["id"] is None and utc(current["timestamp"]) > utc(latest["timestamp"])
    assert set(latest) - {"id"} <= set(current) | {"gpus", "gpu_processes", "sensors"}
    assert current["cpu_percent"] is not None  # rates against the counters read at start-up, without sleeping
    assert len([row for row in current["processes"] if row["ranking"] == "cpu"]) <= 5  # MONITOR_TOP_PROCESSES


def test_pages_are_newest_first_and_filtered_by_time_with_offsets(server: Server) -> None:
    page = server.ok(f"/monitoring/metrics?hostname={SYNTHETIC}&limit=5&offset=2")
    times = [utc(row["timestamp"]) for row in page["items"]]
    newest = START + timedelta(seconds=(COUNT - 1) * 37)
    assert times == [newest - timedelta(seconds=37 * index) for index in range(2, 7)]
    # 01:00:00+01:00 is 00:00:00Z; a naive time is UTC; `Z` is accepted
    for start in ("2026-03-01T01:00:00%2B01:00", "2026-03-01T00:00:00Z", "2026-03-01T00:00:00"):
        rows = server.ok(
            f"/monitoring/metrics?hostname={SYNTHETIC}&start_time={start}&end_time=2026-03-01T00:10:00Z&limit=1000"
        )["items"]
        expected = [
            START + timedelta(seconds=37 * index)
            for index in range(COUNT)
            if START + timedelta(seconds=37 * index) <= datetime(2026, 3, 1, 0, 10, tzinfo=timezone.utc)
        ]
        assert sorted(utc(row["timestamp"]) for row in rows) == expected, start


@pytest.mark.parametrize("query, step", [("points=40", None), ("step=5m", 300), ("step=1h", 3600), ("step=97", 97)])
def test_downsampled_buckets_match_a_python_recomputation(server: Server, query: str, step: int | None) -> None:
    start, end = START + timedelta(seconds=100), START + timedelta(hours=5)
    reply = server.ok(
        f"/monitoring/metrics?hostname={SYNTHETIC}&start_time={start.isoformat().replace('+', '%2B')}"
        f"&end_time={end.isoformat().replace('+', '%2B')}&{query}"
    )
    step = step or math.ceil((math.floor((end - start).total_seconds()) + 1) / 40)
    assert reply["step_seconds"] == step
    assert_buckets(reply["items"], minute_samples(SYNTHETIC, START, COUNT, every_seconds=37), start, end, step)
    if query.startswith("points"):
        assert len(reply["items"]) <= 40


def test_points_bound_the_buckets_when_the_start_has_the_larger_fraction_of_a_second(server: Server) -> None:
    start, end = START - timedelta(seconds=0.5), START + timedelta(seconds=37)  # 00:00:29.75 to 00:01:07.25
    points = 38  # the range touches 39 whole seconds (29 to 67), one more than floor(end - start) + 1
    reply = server.ok(
        f"/monitoring/metrics?hostname={SYNTHETIC}&start_time={start.isoformat().replace('+', '%2B')}"
        f"&end_time={end.isoformat().replace('+', '%2B')}&points={points}"
    )
    origin = math.floor(start.timestamp())
    indexes = [(utc(item["time"]).timestamp() - origin) / reply["step_seconds"] for item in reply["items"]]
    assert len(indexes) == 2 and max(indexes) < points, (reply["step_seconds"], indexes)
    assert_buckets(
        reply["items"], minute_samples(SYNTHETIC, START, COUNT, every_seconds=37), start, end, reply["step_seconds"]
    )


def test_downsampling_pages_and_defaults(server: Server) -> None:
    whole = server.ok(
        f"/monitoring/metrics?hostname={SYNTHETIC}&start_time=2026-03-01T00:00:00Z"
        f"&end_time=2026-03-02T00:00:00Z&step=1h"
    )
    assert [utc(item["time"]).hour for item in whole["items"]] == [6, 5, 4, 3, 2, 1, 0]
    assert sum(item["samples"] for item in whole["items"]) == COUNT
    page = server.ok(
        f"/monitoring/metrics?hostname={SYNTHETIC}&start_time=2026-03-01T00:00:00Z"
        f"&end_time=2026-03-02T00:00:00Z&step=1h&limit=2&offset=1"
    )
    assert page["items"] == whole["items"][1:3]
    recent = server.ok("/monitoring/metrics?points=24")  # default range: the last 24 h
    assert utc(recent["end_time"]) - utc(recent["start_time"]) == timedelta(hours=24)
    assert {item["hostname"] for item in recent["items"]} == {server.ok("/monitoring/metrics/latest")["hostname"]}


@pytest.mark.parametrize(
    "query, names",
    [
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("offset=-1", "offset"),
        ("start_time=yesterday", "start_time"),
        ("end_time=2026-13-01T00:00:00", "end_time"),
        ("points=0", "points"),
        ("points=5000", "points"),
        ("step=soon", "step"),
        ("step=0", "step"),
        ("points=10&step=1h", "points"),
        ("start_time=2026-03-02T00:00:00Z&end_time=2026-03-01T00:00:00Z", "start_time"),
        # out of range, before or after the offset is applied (no OverflowError, no 500)
        ("start_time=0001-01-01T00:00:00%2B01:00", "start_time=0001-01-01T00:00:00+01:00 is out of range"),
        ("end_time=9999-12-31T23:00:00-05:00", "end_time=9999-12-31T23:00:00-05:00 is out of range"),
        ("end_time=1969-12-31T23:59:59Z&points=10", "end_time=1969-12-31T23:59:59+00:00 is out of range"),
        ("hostname=web%001", "hostname='web\\x001' is invalid; expected text without NUL"),  # PostgreSQL cannot hold it
    ],
)
def test_bad_parameters_are_a_422_naming_them(server: Server, query: str, names: str) -> None:
    reply = server.get(f"/monitoring/metrics?{query}")
    assert reply.status == 422, reply.text
    assert names in reply.json()["detail"] and "Traceback" not in reply.text


def test_notifications_filter_and_one_with_its_deliveries(server: Server) -> None:
    items = server.ok("/monitoring/notifications?channel=system_monitoring&level=critical&limit=10")["items"]
    assert items and all(row["level"] == "CRITICAL" and row["channel"] == "system_monitoring" for row in items)
    assert [row["id"] for row in items] == sorted((row["id"] for row in items), reverse=True)
    memory = [row for row in items if row["metric"] == "memory_percent"]
    assert memory, items  # every run breached MEMORY_CRITICAL_THRESHOLD=1 (others may have too: a busy CPU)
    assert server.ok(f"/monitoring/notifications/{memory[0]['id']}") == memory[0] | {"deliveries": []}
    assert server.ok("/monitoring/notifications?start_time=2999-01-01T00:00:00Z")["items"] == []
    assert server.get("/monitoring/notifications/999999").status == 404
    assert server.get("/monitoring/notifications/abc").status == 404  # ids are whole numbers: no such path
    assert server.get(f"/monitoring/notifications/{2**63}").status == 422
    assert server.get("/monitoring/notifications?level=disk").status == 422
    assert server.get("/monitoring/notifications?end_time=0001-01-01T00:00:00%2B01:00").status == 422


def test_stats_hosts_and_thresholds(server: Server) -> None:
    stats = server.ok("/monitoring/stats")
    hosts = {host["hostname"]: host for host in stats["hosts"]}
    assert hosts[SYNTHETIC]["samples"] == COUNT and utc(hosts[SYNTHETIC]["first_sample_at"]) == START
    active = server.ok("/incidents")["items"]
    assert "memory_percent" in {incident["metric"] for incident in active}
    assert stats["active_incidents"]["critical"] == len([row for row in active if row["status"] == "critical"])
    notifications = server.ok("/monitoring/notifications?limit=1000")["items"]
    assert stats["notifications_total"]["CRITICAL"] == len([row for row in notifications if row["level"] == "CRITICAL"])
    assert set(server.ok("/monitoring/hosts")["items"]) == set(hosts)
    levels = {item["metric"]: item for item in server.ok("/monitoring/thresholds")["items"]}
    assert (levels["memory_percent"]["warning"], levels["memory_percent"]["critical"]) == (0.5, 1)
    assert (levels["cpu_percent"]["warning"], levels["cpu_percent"]["critical"]) == (80, 95)


def test_health_reports_the_missing_scheduler_as_unhealthy(server: Server) -> None:
    reply = server.get("/monitoring/health")
    document = reply.json()
    assert reply.status == 503 and document["status"] == "unhealthy"
    assert document["database"]["ok"] is True and document["scheduler"]["ok"] is False
    assert "scheduler: none is running (start one with `python main.py run`)" in document["reasons"]
    assert document["monitoring"]["last_sample_at"] is not None
    assert server.get("/api/v1/health").json()["scheduler"] == document["scheduler"]


def test_unknown_routes_and_the_page(server: Server) -> None:
    assert server.get("/monitoring/nothing").status == 404
    docs = server.get("/docs")
    assert docs.status == 200 and "swagger" in docs.text.lower()
    assert server.get("/redoc").status == 200
    assert "/monitoring/metrics" in server.ok("/openapi.json")["paths"]
