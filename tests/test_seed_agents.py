"""The seeds' agents, unchanged, against a real hub (`main.py serve`): their documents' example payloads posted
as their clients post them (JSON over HTTP, the key where each puts it) land in system_metrics under the key's
host with the seeds' figures, are graded with the hub's thresholds, and a wrong key or a bad payload writes
nothing. SQLite throughout; the landing test also on PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from db_servers import fetch

from tests.api_server import TOKEN, Reply, Server, environ, main_py, serving
from tests.seed_payloads import (
    COREDOTCLOUD_FOUR_CPUS,
    COREDOTCLOUD_INFO,
    COREDOTCLOUD_SIX_CPUS_TWO_GPUS,
    HICLOUD_ANSWER,
    HICLOUD_MONITOR_INFO,
    as_sent,
)

pytest_plugins = ["db_servers"]
pytestmark = pytest.mark.slow

GIB = 2**30
HOST = "web1"
SETTINGS = {"API_TOKEN": TOKEN, "CPU_THRESHOLD": "80", "CPU_CRITICAL_THRESHOLD": "95", "LOG_LEVEL": "DEBUG"}
METRICS = (
    "SELECT hostname, cpu_percent, cpu_count, memory_total_gb, memory_used_gb, memory_percent, memory_available_gb, "
    "disk_total_gb, disk_used_gb, disk_percent, network_recv_bytes_per_second, network_sent_bytes_per_second, "
    "gpu_count, timestamp FROM system_metrics ORDER BY id"
)


@contextmanager
def hub(tmp_path: Path, database_url: str, **settings: str) -> Iterator[tuple[Server, str]]:
    """A hub with the host web1; its key."""
    settings = {**SETTINGS, **settings}
    env = environ(tmp_path, database_url, **settings)
    main_py(env, "db", "init")
    key = main_py(env, "hosts", "add", HOST).stdout.strip()
    with serving(tmp_path, database_url, **settings) as server:
        yield server, key


def coredotcloud_post(server: Server, payload: dict[str, Any]) -> Reply:
    """As the coredotcloud client sends: requests.post(API_URL, json=...)."""
    return server.request("POST", "/api/v1/coredotcloud", body=payload)


def hicloud_post(server: Server, payload: dict[str, Any], query: str) -> Reply:
    """As the HiCloud agent sends: requests.post(url, json=...) with the url the user configured."""
    return server.request("POST", "/monitor_info" + query, body=payload)


def rounded(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(round(value, 6) if isinstance(value, float) else value for value in row)


def rows(database_url: str, sql: str = METRICS) -> list[Any]:
    return [tuple(row) for row in fetch(database_url, sql)]


def test_both_seeds_samples_land_under_the_keys_host(tmp_path: Path, database_url: str) -> None:
    with hub(tmp_path, database_url) as (server, key):
        info = coredotcloud_post(server, as_sent(COREDOTCLOUD_INFO, apikey=key))
        assert (info.status, info.json()) == (200, {"result": "ok", "host": HOST, "category": "info", "stored": 0})
        for example in (COREDOTCLOUD_FOUR_CPUS, COREDOTCLOUD_SIX_CPUS_TWO_GPUS):
            reply = coredotcloud_post(server, as_sent(example, apikey=key))
            assert (reply.status, reply.json()) == (
                200,
                {"result": "ok", "host": HOST, "category": "data", "stored": 1},
            )
        reply = hicloud_post(server, as_sent(HICLOUD_MONITOR_INFO), f"?key={key}&tz=Asia/Seoul")
        assert (reply.status, reply.json()) == (200, HICLOUD_ANSWER)

    four, six, hicloud = rows(database_url)
    # GB are stored as GiB of whole bytes: 57.78 GB is 57.78000000026 GiB.
    assert rounded(four[:13]) == (HOST, 14.8, 4, 128.0, 57.78, 46.0, None, 3721.87, 10.39, 1.5, 283648.0, 8192.0, 0)
    assert rounded(six[:13]) == (HOST, 12.5, 6, 64.0, 45.0, 70.0, None, 1000.0, 500.0, 50.0, 512000.0, 102400.0, 2)
    assert hicloud[:7] == (HOST, 45.2, 4, 8.0, 4.0, 50.0, None) and hicloud[7:13] == (None,) * 6
    assert str(hicloud[13])[:19] == "2024-09-04 06:30:00"  # 15:30 in Seoul, stored in UTC
    cores = rows(database_url, "SELECT core_index, percent FROM system_metric_cpu_cores ORDER BY id")
    assert cores == [(0, 13.2), (1, 14.0), (2, 15.5), (3, 16.8), *enumerate([10.0, 15.0, 12.0, 18.0, 22.0, 17.0])]
    gpus = rows(
        database_url, "SELECT gpu_index, utilization_percent, memory_total_mib, memory_used_mib FROM system_metric_gpus"
    )
    assert gpus == [(0, 40.5, 8192.0, 2048.0), (1, 55.2, 4096.0, 1024.0)]
    assert rows(database_url, "SELECT name, source FROM hosts") == [(HOST, "hicloud")]  # the last to push
    # The HiCloud container in the container table, and both back through the seed's own tables (views).
    stored = rows(database_url, "SELECT name, state, engine, cpu_host_percent, cpu_cores FROM system_metric_containers")
    assert stored == [("nginx-container", "running", "docker", 0.5, 0.02)]
    server_view = rows(
        database_url,
        "SELECT engine_type, agent_id, ser_cpu_count, ser_cpu_percent, ser_memory_total, ser_memory_used, "
        "ser_memory_percent FROM server WHERE engine_type IS NOT NULL",
    )
    assert [rounded(tuple(map(_plain, row))) for row in server_view] == [("docker", HOST, 4, 45.2, 8192, 4096, 50.0)]
    container_view = rows(
        database_url,
        "SELECT engine_type, agent_id, node_name, container_name, status, con_cpu_percent, con_memory_usage, "
        "con_memory_percent, con_get_datetime FROM container ORDER BY con_get_datetime DESC",
    )
    assert [rounded(tuple(map(_plain, row[:8]))) for row in container_view] == [
        ("docker", HOST, HOST, "nginx-container", "running", 0.5, 50.2, 0.6)
    ]
    assert str(container_view[0][8])[:19] == "2024-09-04 06:30:00"


def _plain(value: Any) -> Any:
    """A DECIMAL column's value as the float it holds (PostgreSQL and MariaDB return Decimal)."""
    return float(value) if isinstance(value, Decimal) else value


def test_a_high_cpu_is_graded_with_the_hubs_thresholds(tmp_path: Path) -> None:
    """On a hub without API_TOKEN too: the host key is the seeds' only credential."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    hot = as_sent(COREDOTCLOUD_FOUR_CPUS)
    hot["data"][0] = 97.5
    now_in_seoul = datetime.now(timezone(timedelta(hours=9))).strftime("%Y-%m-%d %H:%M:%S")
    with hub(tmp_path, url, API_TOKEN="") as (server, key):
        assert server.request("POST", "/incidents/silences", body={}).status == 403  # the API's writes are off
        assert coredotcloud_post(server, {**hot, "apikey": key}).status == 200
        incidents = server.ok("/incidents?status=active")
        hicloud = as_sent(HICLOUD_MONITOR_INFO, ser_cpu_percent=85.0, ser_get_datetime=now_in_seoul)
        assert hicloud_post(server, hicloud, f"?key={key}&tz=Asia/Seoul").status == 200
    [incident] = rows(url, "SELECT host, metric, status, peak_level, threshold, last_value FROM alert_incidents")
    assert incident == (HOST, "cpu_percent", "warning", "CRITICAL", 80.0, 85.0)
    notified = rows(url, "SELECT host, metric, level FROM notifications ORDER BY id")
    assert notified[0] == (HOST, "cpu_percent", "CRITICAL")
    assert incidents, "the API shows the incident"


def test_hicloud_envelope_health_wrong_keys_and_bad_payloads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with hub(tmp_path, url, API_READ_AUTH="true", API_MAX_BODY_BYTES="4096") as (server, key):
        health = server.get("/health")
        assert health.status == 200 and health.json()["status"] == "healthy"
        stamp = datetime.fromisoformat(health.json()["timestamp"])
        assert abs((datetime.now(timezone.utc) - stamp).total_seconds()) < 60

        payload = as_sent(HICLOUD_MONITOR_INFO)
        no_key = hicloud_post(server, payload, "")
        assert no_key.status == 401 and no_key.json()["success"] is False and no_key.json()["resultCode"] == "401"
        assert "?key=" in no_key.json()["resultMessage"]
        wrong = hicloud_post(server, payload, "?key=ahk_" + "x" * 43)
        assert wrong.status == 401 and wrong.json()["success"] is False
        bad = hicloud_post(server, {**payload, "ser_memory_percent": "half"}, f"?key={key}")
        assert bad.status == 422 and bad.json()["resultCode"] == "422"
        assert "$.ser_memory_percent" in bad.json()["resultMessage"]
        zone = hicloud_post(server, payload, f"?key={key}&tz=Mars/Olympus")
        assert zone.status == 422 and "tz='Mars/Olympus'" in zone.json()["resultMessage"]
        crowded = {**payload, "container_stats": payload["container_stats"] * 20}  # past API_MAX_BODY_BYTES
        assert hicloud_post(server, crowded, f"?key={key}").status == 413

        wrong = coredotcloud_post(server, as_sent(COREDOTCLOUD_FOUR_CPUS, apikey="DKWs8wl"))
        assert wrong.status == 401 and "DKWs8wl" not in wrong.text
        token_instead = server.request(
            "POST", "/api/v1/coredotcloud", body=as_sent(COREDOTCLOUD_FOUR_CPUS, apikey=TOKEN), token=TOKEN
        )
        assert token_instead.status == 401  # the API token is no host key
        short = as_sent(COREDOTCLOUD_FOUR_CPUS, apikey=key)
        short["data"] = short["data"][:-1]
        bad = coredotcloud_post(server, short)
        assert bad.status == 422
        assert bad.json()["detail"] == (
            "$.data has 14 values: with 4 CPUs ($.data[9]) and 0 GPUs ($.data[10]) it must have 11 + 4 + 3 * 0 = 15"
        )
        # A host key grants nothing but ingest: not a write, not a read under API_READ_AUTH.
        silence = {"pattern": "*", "until": "2099-01-01T00:00:00Z"}
        assert server.request("POST", "/incidents/silences", body=silence, token=key).status == 401
        assert server.get("/monitoring/metrics", token=key).status == 401
    assert rows(url) == []
    assert rows(url, "SELECT name, last_seen_at, source FROM hosts") == [(HOST, None, None)]
    log = server.log.read_text() + (tmp_path / "automation.log").read_text()
    assert key not in log and "ahk_" + "x" * 43 not in log
    assert "Traceback" not in log


def test_ingest_switched_off_is_a_404_on_both_routes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with hub(tmp_path, url, INGEST_ENABLED="false") as (server, key):
        assert coredotcloud_post(server, as_sent(COREDOTCLOUD_FOUR_CPUS, apikey=key)).status == 404
        off = hicloud_post(server, as_sent(HICLOUD_MONITOR_INFO), f"?key={key}")
        assert off.status == 404 and "INGEST_ENABLED" in off.json()["resultMessage"]
        assert server.get("/health").status == 200
    assert rows(url) == []
