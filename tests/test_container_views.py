"""Containers where a user looks, against the session's real Docker daemon (tests/container_engines.py): a hub
(`main.py serve`) that samples its own machine's containers live, and a real agent process (under the import
guard of tests.agent_process: the containers collector needs neither SQLAlchemy nor FastAPI) pushing another
host's containers to it. The pushed containers are stored under their host and graded there (an unhealthy
container opens an incident at the hub); /api/v1/metrics/containers, /monitoring/metrics/{latest,current} and
/metrics (labelled by host, container and image, promtool-clean) show them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.agent_process import agent_environ, start_agent, stop_agent, wait_for
from tests.api_server import Server, main_py, serving
from tests.container_engines import HELD_MIB, IMAGE, LIMIT_MIB, Scene
from tests.test_prometheus import assert_promtool_clean, of_host, samples

# The engines and their containers, started once for the whole session whichever modules use them.
pytest_plugins = ["tests.container_engines"]
pytestmark = pytest.mark.slow
AGENT_HOST = "container-host-1"
SCENE = {"idle", "busy", "memory", "oom", "loop", "unhealthy", "failed"}


class Hub(NamedTuple):
    server: Server
    database: Path


def _query(database: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(database, timeout=30)) as connection:
        return connection.execute(sql, params).fetchall()


def _pushed_samples_with_containers(database: Path) -> int:
    [(count,)] = _query(
        database,
        "SELECT count(DISTINCT m.id) FROM system_metrics m JOIN system_metric_containers c "
        "ON c.system_metric_id = m.id WHERE m.hostname = ?",
        AGENT_HOST,
    )
    return count


@pytest.fixture(scope="module")
def hub(docker_scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The hub with at least three of the agent's samples stored (rates need two); the agent stopped then."""
    tmp = tmp_path_factory.mktemp("container_views")
    database = tmp / "hub.db"
    socket = docker_scene.engine.socket_path
    with serving(tmp, f"sqlite:///{database}", CONTAINER_ENGINE_SOCKET=socket) as server:
        key = main_py(server.env, "hosts", "add", AGENT_HOST).stdout.strip()
        env = agent_environ(
            tmp, AGENT_HUB_URL=server.base_url, AGENT_HOST_KEY=key, AGENT_INTERVAL="1", CONTAINER_ENGINE_SOCKET=socket
        )
        log = tmp / "agent.log"
        agent = start_agent(env, log)
        try:
            wait_for(lambda: _pushed_samples_with_containers(database) >= 3, "three pushed samples", log=log)
        finally:
            stop_agent(agent, log)
        assert "Traceback" not in log.read_text(), log.read_text()
        yield Hub(server, database)


def test_pushed_containers_are_stored_under_their_host_and_open_incidents(hub: Hub) -> None:
    rows = _query(
        hub.database,
        "SELECT c.name, c.state, c.health, c.memory_used_bytes FROM system_metric_containers c "
        "JOIN system_metrics m ON m.id = c.system_metric_id "
        "WHERE m.hostname = ? AND m.id = (SELECT max(id) FROM system_metrics WHERE hostname = ?)",
        AGENT_HOST,
        AGENT_HOST,
    )
    found = {name: rest for name, *rest in rows}
    assert set(found) >= SCENE, found
    assert found["unhealthy"][1] == "unhealthy" and found["failed"][0] == "exited"
    assert found["memory"][2] == pytest.approx(HELD_MIB * 2**20, rel=0.15)
    incidents = _query(
        hub.database,
        "SELECT resource, status FROM alert_incidents WHERE host = ? AND metric = 'container_unhealthy'",
        AGENT_HOST,
    )
    assert incidents == [("unhealthy", "warning")]


def test_the_api_gives_each_sample_its_containers(hub: Hub) -> None:
    series = hub.server.ok(f"/api/v1/metrics/containers?hostname={AGENT_HOST}&limit=2")
    assert series["count"] == 2 and series["data"][0]["timestamp"] > series["data"][1]["timestamp"]
    newest = {row["name"]: row for row in series["data"][0]["containers"]}
    assert set(newest) >= SCENE
    idle = newest["idle"]
    assert idle["image"] == IMAGE and idle["engine"] == "docker" and idle["state"] == "running"
    assert idle["cpu_cores"] is not None and 0 <= idle["cpu_cores"] < 0.2  # a rate: from the previous sample
    assert idle["cpu_host_percent"] is not None and idle["restart_count"] == 0
    assert newest["oom"]["oom_killed"] is True and newest["loop"]["restart_count"] >= 2
    latest = hub.server.ok(f"/monitoring/metrics/latest?hostname={AGENT_HOST}")
    assert {row["name"] for row in latest["containers"]} >= SCENE
    live = hub.server.ok("/monitoring/metrics/current")
    assert live["hostname"] != AGENT_HOST and {row["name"] for row in live["containers"]} >= SCENE


def _by_container(found: dict[str, list[tuple[dict[str, str], float]]], name: str, host: str) -> dict[str, Any]:
    return {labels["container"]: (labels, value) for labels, value in of_host(found, name, host)}


def test_metrics_label_each_container_by_host_name_and_image(hub: Hub) -> None:
    exposition = hub.server.get("/metrics").text
    found = samples(exposition)
    live_host = hub.server.ok("/monitoring/metrics/current")["hostname"]
    for host in (AGENT_HOST, live_host):  # the newest stored sample of one, the live sample of the other
        labels, used = _by_container(found, "automation_container_memory_used_bytes", host)["memory"]
        assert labels == {"host": host, "container": "memory", "image": IMAGE}
        assert used == pytest.approx(HELD_MIB * 2**20, rel=0.15)
        limit = _by_container(found, "automation_container_memory_limit_bytes", host)["memory"][1]
        assert limit == LIMIT_MIB * 2**20
        assert set(_by_container(found, "automation_container_restarts_in_window", host)) >= SCENE
    assert_promtool_clean(exposition)
