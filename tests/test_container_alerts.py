"""Containers stored and alerted on, through real `main.py monitor` runs against a real Docker daemon
(tests/container_engines.py): each container a row of system_metric_containers, rates from the previous stored
sample's counters, levels per container by name pattern, and the lifecycle incidents (unhealthy, killed for
memory, exited non-zero, a restart loop, gone) that fire once and resolve."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import MAIN
from tests.container_engines import HELD_MIB, Scene, wait_for

if TYPE_CHECKING:
    from tests.conftest import Workspace


# The engines and their containers, started once for the whole session whichever modules use them.
pytest_plugins = ["tests.container_engines"]
pytestmark = pytest.mark.slow


def _monitor(workspace: Workspace, scene: Scene) -> None:
    result = workspace.run(
        "monitor", script=MAIN, CONTAINER_ENGINE_SOCKET=scene.engine.socket_path, MONITOR_DISABLED_COLLECTORS="gpu"
    )
    assert result.returncode in (0, 1, 2), result.stderr  # the exit code is the worst level: alerts are expected
    assert "Traceback" not in result.stderr, result.stderr


def _query(workspace: Workspace, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(workspace.database)) as connection:
        return connection.execute(sql, params).fetchall()


def _incidents(workspace: Workspace) -> dict[tuple[str, str], str]:
    """(metric, container) -> status of every container incident."""
    rows = _query(workspace, "SELECT metric, resource, status FROM alert_incidents WHERE metric LIKE 'container_%'")
    return {(metric, resource): status for metric, resource, status in rows}


def test_containers_are_stored_graded_and_their_lifecycle_alerted(docker_scene: Scene, workspace: Workspace) -> None:
    """Docker: the containers this test starts and removes would change what Podman's scene containers do (its
    restart handling runs in the podman commands), so the lifecycle from start to gone is Docker's here."""
    scene, engine = docker_scene, docker_scene.engine
    workspace.write_env(CONTAINER_MEMORY_THRESHOLD_OVERRIDES="mem*=50,memory=60", CONTAINER_MEMORY_THRESHOLD="off")
    engine.run("doomed", "sleep", "100000")
    engine.run("looping", "sh", "-c", "exit 4", options=("--restart", "always"))
    try:
        _monitor(workspace, scene)
        rows = _query(
            workspace,
            "SELECT name, state, health, oom_killed, exit_code, memory_used_bytes, memory_percent, cpu_ns_total "
            "FROM system_metric_containers",
        )
        found = {row[0]: row[1:] for row in rows}
        assert {"idle", "memory", "oom", "unhealthy", "failed", "doomed", "looping"} <= set(found)
        assert found["memory"][4] is not None and found["memory"][4] >= HELD_MIB * 0.9 * 100 / 64
        assert found["idle"][5] is not None  # the counters the next run's rates start from
        incidents = _incidents(workspace)
        assert incidents[("container_unhealthy", "unhealthy")] == "warning"
        assert incidents[("container_oom_killed", "oom")] == "critical"
        assert incidents[("container_failed", "failed")] == "warning"
        assert incidents[("container_memory_percent", "memory")] == "warning"  # 75 % of its limit, above 60
        assert ("container_failed", "idle") not in incidents and ("container_gone", "doomed") not in incidents

        first_count = engine.inspect("looping")["RestartCount"]
        wait_for(lambda: engine.inspect("looping")["RestartCount"] >= first_count + 4, "four more restarts")
        engine.cli("rm", "-f", "doomed")
        _monitor(workspace, scene)
        incidents = _incidents(workspace)
        assert incidents[("container_gone", "doomed")] == "warning"
        assert incidents[("container_restarts", "looping")] == "warning"
        rates = _query(
            workspace,
            "SELECT c.cpu_cores, c.restarts_in_window FROM system_metric_containers c "
            "WHERE c.name = 'idle' AND c.system_metric_id = (SELECT max(id) FROM system_metrics)",
        )
        assert rates[0][0] is not None and 0 <= rates[0][0] < 0.2  # an idle container, from the stored counters

        _monitor(workspace, scene)
        assert _incidents(workspace)[("container_gone", "doomed")] == "ok"  # fired once, resolved
        gone_rows = _query(workspace, "SELECT gone FROM system_metric_containers WHERE name = 'doomed' ORDER BY id")
        assert [gone for (gone,) in gone_rows] == [0, 1, 0]
        _monitor(workspace, scene)
        assert len(_query(workspace, "SELECT id FROM system_metric_containers WHERE name = 'doomed'")) == 3
        titles = _query(workspace, "SELECT title FROM notifications WHERE title LIKE '%doomed%'")
        assert len(titles) == 2, titles  # the alert and its resolution, nothing more
    finally:
        for name in ("doomed", "looping"):
            engine.cli("rm", "-f", name, check=False)


def test_podman_containers_are_stored_and_alerted(podman_scene: Scene, workspace: Workspace) -> None:
    """Podman's containers through the same run: stored, a level by name, the lifecycle incidents of its scene
    (Podman 4.3 on cgroup v1 does not flag a kill for memory: exit code 137 only)."""
    workspace.write_env(CONTAINER_MEMORY_THRESHOLD_OVERRIDES="mem*=60")
    _monitor(workspace, podman_scene)
    rows = _query(workspace, "SELECT name, engine, state, memory_percent FROM system_metric_containers")
    found = {row[0]: row[1:] for row in rows}
    assert set(podman_scene.ids) <= set(found) and found["memory"][0] == "podman"
    incidents = _incidents(workspace)
    assert incidents[("container_unhealthy", "unhealthy")] == "warning"
    assert incidents[("container_failed", "failed")] == "warning"
    assert incidents[("container_memory_percent", "memory")] == "warning"
    assert ("container_failed", "idle") not in incidents


def test_the_hicloud_views_read_the_stored_containers(docker_scene: Scene, workspace: Workspace) -> None:
    _monitor(workspace, docker_scene)
    servers = _query(
        workspace,
        "SELECT engine_type, agent_id, ser_cpu_count, ser_cpu_percent, ser_memory_total, ser_memory_used, "
        "ser_memory_percent, ser_get_datetime FROM server ORDER BY ser_get_datetime DESC LIMIT 10",
    )
    assert len(servers) == 1 and servers[0][0] == "docker" and servers[0][2] >= 1 and servers[0][4] > 0
    containers = {
        row[0]: row[1:]
        for row in _query(
            workspace,
            "SELECT container_name, status, con_cpu_percent, con_memory_usage, con_memory_percent, engine_type, "
            "node_name, con_get_datetime FROM container ORDER BY con_get_datetime DESC",
        )
    }
    assert containers["memory"][0] == "running" and containers["memory"][2] == pytest.approx(HELD_MIB, rel=0.15)
    assert containers["failed"][0] == "exited" and containers["memory"][4] == "docker"
