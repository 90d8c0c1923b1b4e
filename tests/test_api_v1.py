"""/api/v1/* (the FastAPI monitoring seed's routes) over a real server: series per resource with start, end and
limit (default 100, at most 1000), processes with limit (default 10, at most 100) and sort_by cpu or memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.api_server import Server, environ, insert_rows, main_py, minute_samples, serving, utc

HOST = "seed-host"
START = datetime(2026, 5, 1, tzinfo=timezone.utc)
# The samples of HOST that list containers (ids: the monitor run's sample is 1, HOST's are 2 to 1501, a minute
# apart from START): three old ones and the newest.
CONTAINER_SAMPLES = (5, 6, 7, 1501)


def containers(sample_id: int) -> list[dict[str, Any]]:
    """Two containers as the monitor stores them: a busy web server and a database failing its health check."""
    return [
        {
            "system_metric_id": sample_id,
            "container_id": "a1" * 32,
            "name": "web",
            "image": "nginx:1.27",
            "engine": "docker",
            "state": "running",
            "health": None,
            "restart_count": 0,
            "cpu_ns_total": 10**12 + sample_id,
            "cpu_cores": 1.5,
            "cpu_host_percent": 37.5,
            "memory_used_bytes": 200 * 2**20,
            "memory_limit_bytes": 512 * 2**20,
            "memory_percent": 39.06,
            "net_rx_bytes_per_second": 1000.0 * sample_id,
            "pids": 9,
            "restarts_in_window": 0,
            "gone": 0,
        },
        {
            "system_metric_id": sample_id,
            "container_id": "b2" * 32,
            "name": "db",
            "image": "postgres:17",
            "engine": "docker",
            "state": "running",
            "health": "unhealthy",
            "restart_count": 3,
            "cpu_ns_total": None,
            "cpu_cores": 0.25,
            "cpu_host_percent": 6.25,
            "memory_used_bytes": None,
            "memory_limit_bytes": None,
            "memory_percent": None,
            "net_rx_bytes_per_second": None,
            "pids": None,
            "restarts_in_window": 2,
            "gone": 0,
        },
    ]


def minutes_after_start(sample_id: int) -> datetime:
    return START + timedelta(minutes=sample_id - 2)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("api-v1")
    url = f"sqlite:///{tmp / 'automation.db'}"
    main_py(environ(tmp, url), "monitor", "--quiet")
    insert_rows(url, "system_metrics", minute_samples(HOST, START, 1500))
    insert_rows(
        url,
        "system_metric_gpus",
        [
            {
                "system_metric_id": sample_id,
                "gpu_index": index,
                "uuid": f"GPU-{index}",
                "name": "Test GPU",
                "utilization_percent": float(sample_id % 100),
                "temperature_celsius": 50.0 + index,
            }
            for sample_id in range(2, 12)
            for index in (0, 1)
        ],
    )
    insert_rows(
        url, "system_metric_containers", [row for sample_id in CONTAINER_SAMPLES for row in containers(sample_id)]
    )
    with serving(tmp, url) as running:
        yield running


@pytest.mark.parametrize(
    "metric, column",
    [
        ("cpu", "cpu_percent"),
        ("memory", "memory_percent"),
        ("disk", "disk_percent"),
        ("network", "network_recv_bytes_per_second"),
    ],
)
def test_series_default_to_100_newest_and_honour_start_end_limit(server: Server, metric: str, column: str) -> None:
    series = server.ok(f"/api/v1/metrics/{metric}?hostname={HOST}")
    assert series["count"] == 100 and series["metric"] == metric and column in series["data"][0]
    times = [utc(row["timestamp"]) for row in series["data"]]
    assert times[0] == START + timedelta(minutes=1499) and times == sorted(times, reverse=True)
    window = server.ok(
        f"/api/v1/metrics/{metric}?hostname={HOST}&start=2026-05-01T01:00:00Z"
        f"&end=2026-05-01T03:00:00%2B02:00&limit=1000"
    )  # 01:00Z to 01:00Z: one sample
    assert [utc(row["timestamp"]) for row in window["data"]] == [START + timedelta(hours=1)]
    assert server.ok(f"/api/v1/metrics/{metric}?hostname={HOST}&limit=1000")["count"] == 1000


def test_series_default_to_this_machine(server: Server) -> None:
    own = server.ok("/api/v1/metrics/cpu")
    assert own["hostname"] != HOST and own["count"] == 1 and own["data"][0]["cpu_percent"] is not None


def test_gpu_series_has_a_row_per_gpu_and_sample(server: Server) -> None:
    gpus = server.ok(f"/api/v1/metrics/gpu?hostname={HOST}&end=2026-05-01T00:30:00&limit=1000")
    assert gpus["count"] == 20 and {row["uuid"] for row in gpus["data"]} == {"GPU-0", "GPU-1"}
    assert server.ok(f"/api/v1/metrics/gpu?hostname={HOST}")["count"] == 0  # the newest 100 samples have none


def test_containers_series_has_an_item_per_sample_with_its_containers(server: Server) -> None:
    series = server.ok(f"/api/v1/metrics/containers?hostname={HOST}")
    assert series["metric"] == "containers" and series["count"] == 4
    assert [utc(item["timestamp"]) for item in series["data"]] == [
        minutes_after_start(sample_id) for sample_id in sorted(CONTAINER_SAMPLES, reverse=True)
    ]
    newest = series["data"][0]
    assert newest["hostname"] == HOST and [row["name"] for row in newest["containers"]] == ["web", "db"]
    web, db = newest["containers"]
    assert web["cpu_cores"] == 1.5 and web["cpu_host_percent"] == 37.5 and web["memory_limit_bytes"] == 512 * 2**20
    assert web["container_id"] == "a1" * 32 and web["image"] == "nginx:1.27" and web["state"] == "running"
    assert db["health"] == "unhealthy" and db["restart_count"] == 3 and db["restarts_in_window"] == 2
    assert not [name for name in web if name.endswith("_total")]  # the raw counters stay inside
    window = server.ok(
        f"/api/v1/metrics/containers?hostname={HOST}&start=2026-05-01T00:04:00Z&end=2026-05-01T00:30:00Z&limit=1"
    )
    assert window["count"] == 1 and utc(window["data"][0]["timestamp"]) == minutes_after_start(7)
    assert server.ok("/api/v1/metrics/containers")["count"] == 0  # this machine's monitor run listed none
    latest = server.ok(f"/monitoring/metrics/latest?hostname={HOST}")
    assert [row["name"] for row in latest["containers"]] == ["web", "db"]


def test_current_and_processes_are_live(server: Server) -> None:
    current = server.ok("/api/v1/metrics/current")
    assert current["id"] is None and current["memory_percent"] > 0
    default = server.ok("/api/v1/metrics/processes")
    assert default["sort_by"] == "cpu" and 1 <= default["count"] <= 10
    by_memory = server.ok("/api/v1/metrics/processes?limit=100&sort_by=memory")["processes"]
    assert len(by_memory) > 10 and all(row["ranking"] == "memory" for row in by_memory)
    rss = [row["rss_bytes"] for row in by_memory]
    assert rss == sorted(rss, reverse=True)


@pytest.mark.parametrize(
    "path, name",
    [
        ("/api/v1/metrics/cpu?limit=0", "limit"),
        ("/api/v1/metrics/memory?limit=5000", "limit"),
        ("/api/v1/metrics/disk?start=not-a-date", "start"),
        ("/api/v1/metrics/network?end=2026-02-30", "end"),
        ("/api/v1/metrics/cpu?start=2026-05-02T00:00:00Z&end=2026-05-01T00:00:00Z", "start"),
        ("/api/v1/metrics/gpu?end=0001-01-01T00:00:00%2B01:00", "end"),
        ("/api/v1/metrics/containers?limit=1001", "limit"),
        ("/api/v1/metrics/containers?start=yesterday", "start"),
        ("/api/v1/metrics/processes?limit=0", "limit"),
        ("/api/v1/metrics/processes?limit=101", "limit"),
        ("/api/v1/metrics/processes?sort_by=disk", "sort_by"),
    ],
)
def test_bad_parameters_are_a_422_naming_them(server: Server, path: str, name: str) -> None:
    reply = server.get(path)
    assert reply.status == 422 and reply.json()["detail"].startswith(name), reply.text
    assert "Traceback" not in reply.text
