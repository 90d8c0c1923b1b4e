"""The containers collector against real engines (tests/container_engines.py): a Docker daemon and Podman's API
service of their own, running busybox containers that idle, burn one CPU, hold memory under a limit, get killed
for memory, restart in a loop, fail their health check and exit with an error. Then the figures through
`main.py monitor --json` and the report, and a host without an engine."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import psutil
import pytest

from config.settings import load_settings
from monitoring.collectors import containers
from monitoring.collectors.containers import ContainerReading, ContainersReading
from monitoring.containers.engine_client import EngineClient
from monitoring.containers.engine_stats import docker_stats, podman_stats
from monitoring.rates import CounterSnapshot
from monitoring.units import MIB
from tests.conftest import MAIN, ROOT, clean_environ
from tests.container_engines import HELD_MIB, LIMIT_MIB, Scene, wait_for

if TYPE_CHECKING:
    from tests.conftest import Workspace


# The engines and their containers, started once for the whole session whichever modules use them.
pytest_plugins = ["tests.container_engines"]
pytestmark = pytest.mark.slow


def _settings(socket_path: str) -> object:
    return load_settings({"CONTAINER_ENGINE_SOCKET": socket_path, "LOG_FILE": "off"})


def _collect(scene: Scene) -> ContainersReading:
    reading = containers.collect(_settings(scene.engine.socket_path))
    assert reading.problems == []
    assert reading.engine == scene.engine.name
    return reading


def _by_name(reading: ContainersReading) -> dict[str, ContainerReading]:
    return {item.name: item for item in reading.containers}


def _with_rates(before: ContainersReading, after: ContainersReading) -> None:
    previous = CounterSnapshot(datetime.now(timezone.utc), None, containers=containers.counters(before))
    containers.apply_rates(after, previous, 1.0)


@pytest.fixture
def busy(scene: Scene) -> Iterator[Scene]:
    scene.engine.cli("unpause", "busy")
    try:
        yield scene
    finally:
        scene.engine.cli("pause", "busy")


def test_each_state_as_the_engine_reports_it(scene: Scene) -> None:
    found = _by_name(_collect(scene))
    assert set(found) == set(scene.ids)
    assert {name: item.id for name, item in found.items()} == scene.ids
    idle = found["idle"]
    assert (idle.state, idle.health, idle.restart_count, idle.exit_code, idle.oom_killed) == (
        "running",
        None,
        0,
        None,
        False,
    )
    assert idle.source == "cgroup" and idle.pids == 1 and idle.started_at
    assert idle.image.endswith("monitoring-busybox:1")
    assert idle.memory_limit_bytes is None and 0 < idle.memory_used_bytes < 16 * MIB
    oom = found["oom"]
    assert (oom.state, oom.exit_code) == ("exited", 137)
    # The engine's flag as it gives it: Podman 4.3 on cgroup v1 does not set it for a memory kill (Docker does).
    assert oom.oom_killed is scene.engine.inspect("oom")["State"]["OOMKilled"] is (scene.engine.name == "docker")
    assert oom.cpu_cores is None and oom.memory_used_bytes is None
    failed = found["failed"]
    assert (failed.state, failed.exit_code, failed.oom_killed) == ("exited", 5, False)
    assert (found["unhealthy"].state, found["unhealthy"].health) == ("running", "unhealthy")
    assert found["busy"].state == "paused"


def test_memory_in_use_near_what_the_container_holds(scene: Scene) -> None:
    memory = _by_name(_collect(scene))["memory"]
    assert memory.memory_limit_bytes == LIMIT_MIB * MIB
    assert HELD_MIB * MIB <= memory.memory_used_bytes <= LIMIT_MIB * MIB
    assert memory.memory_percent == pytest.approx(100 * memory.memory_used_bytes / (LIMIT_MIB * MIB), abs=0.01)


def test_a_busy_loop_uses_one_core(busy: Scene) -> None:
    """Cores used (not a share of the host: 1.0 is one core busy), and the same as a share of the host."""
    before = _collect(busy)
    process = psutil.Process(_by_name(before)["busy"].pid)
    cpu_before = sum(process.cpu_times()[:2])
    time.sleep(2.0)
    cpu_after = sum(process.cpu_times()[:2])
    after = _collect(busy)
    _with_rates(before, after)
    item, earlier = _by_name(after)["busy"], _by_name(before)["busy"]
    span_seconds = item.counters.read_at - earlier.counters.read_at
    # One thread uses at most one core; how much of one it gets depends on the host's load (2 shared cores here),
    # so the figure is checked against what the kernel gave the loop's process over the same span.
    assert item.cpu_cores == pytest.approx((cpu_after - cpu_before) / span_seconds, abs=0.1)
    assert 0.2 <= item.cpu_cores <= 1.05
    assert item.cpu_host_percent == pytest.approx(100 * item.cpu_cores / os.cpu_count(), abs=0.01)
    idle = _by_name(after)["idle"]
    assert idle.cpu_cores < 0.05 and idle.net_rx_bytes_per_second is not None
    assert after.dropped_values == 0


def test_restart_count_rises_in_a_loop(scene: Scene) -> None:
    first = _by_name(_collect(scene))["loop"]
    wait_for(lambda: scene.engine.inspect("loop")["RestartCount"] > first.restart_count, "another restart", timeout=60)
    second = _by_name(_collect(scene))["loop"]
    assert second.restart_count > first.restart_count >= 2
    if second.state != "running":
        assert second.exit_code == 3


def test_the_stats_api_agrees_with_the_cgroup_files(scene: Scene) -> None:
    """The fallback for hosts whose cgroups this process cannot read: the same figures from the engine."""
    memory = _by_name(_collect(scene))["memory"]
    if scene.engine.name == "podman":
        client = EngineClient(scene.engine.socket_path)
        try:
            found = podman_stats(client)
        finally:
            client.close()
    else:
        found = docker_stats(scene.engine.socket_path, 2.0, [memory.id])
    stats = found[memory.id]
    assert stats.memory_limit_bytes == LIMIT_MIB * MIB
    assert stats.memory_used_bytes == pytest.approx(memory.memory_used_bytes, rel=0.1)
    assert stats.cpu_ns >= memory.counters.cpu_ns
    assert stats.pids == memory.pids


def test_counters_that_go_back_are_dropped_and_counted(scene: Scene) -> None:
    before, after = _collect(scene), _collect(scene)
    for item in before.containers:  # as if the earlier read had counted more than the later one
        if item.counters is not None:
            item.counters = item.counters._replace(cpu_ns=(item.counters.cpu_ns or 0) + 10**12)
    _with_rates(before, after)
    running = [item for item in after.containers if item.counters is not None]
    assert running and all(item.cpu_cores is None for item in running)
    assert after.dropped_values == len(running)


def test_monitor_json_and_report_show_the_containers(docker_scene: Scene, workspace: Workspace) -> None:
    socket_path = docker_scene.engine.socket_path
    result = workspace.run("monitor", "--json", "--no-save", script=MAIN, CONTAINER_ENGINE_SOCKET=socket_path)
    assert result.returncode == 0, result.stderr
    section = json.loads(result.stdout)["containers"]
    assert section["engine"] == "docker" and section["problems"] == []
    found = {item["name"]: item for item in section["containers"]}
    assert set(found) == set(docker_scene.ids)
    assert found["oom"]["oom_killed"] is True and found["unhealthy"]["health"] == "unhealthy"
    report = workspace.run("monitor", "--no-save", script=MAIN, CONTAINER_ENGINE_SOCKET=socket_path)
    assert report.returncode == 0, report.stderr
    line = next(line for line in report.stdout.splitlines() if "Containers:" in line)
    assert "Containers: 7 via docker (" in line and "1 unhealthy" in line and "1 OOM-killed" in line, line
    assert "2 exited non-zero" in line, line


@pytest.fixture
def refusing_socket(tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A socket file nobody listens on (an engine that stopped and left it behind)."""
    path = os.path.join(tmp_path, "engine.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    sock.close()
    yield path


@pytest.mark.parametrize("kind", ["missing", "refusing"])
def test_no_engine_gives_an_empty_section_and_one_info_line(
    kind: str, refusing_socket: str, workspace: Workspace
) -> None:
    socket_path = refusing_socket if kind == "refusing" else refusing_socket + ".absent"
    workspace.write_env(LOG_LEVEL="INFO")
    result = workspace.run("monitor", "--json", script=MAIN, CONTAINER_ENGINE_SOCKET=socket_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["containers"] == {"engine": None, "containers": [], "dropped_values": 0, "problems": []}
    assert {key: value for key, value in _outcome(document, "containers").items() if key in ("name", "error")} == {
        "name": "containers",
        "error": None,
    }
    lines = [line for line in workspace.log_file.read_text().splitlines() if "no containers to report" in line]
    assert len(lines) == 1 and "INFO" in lines[0], lines


def _outcome(document: dict, name: str) -> dict:
    return next(outcome for outcome in document["collectors"] if outcome["name"] == name)


def test_the_reason_is_logged_at_info_once_per_process(
    caplog: pytest.LogCaptureFixture, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(containers, "_reported", set())  # as in a fresh process: other tests met the reason
    caplog.set_level(logging.DEBUG, logger=containers.log.name)
    settings = _settings(f"{tmp_path}/nothing-here.sock")
    assert containers.collect(settings).containers == []
    assert containers.collect(settings).containers == []
    levels = [record.levelno for record in caplog.records if "no containers to report" in record.getMessage()]
    assert levels == [logging.INFO, logging.DEBUG]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv to drop to nobody")
def test_a_socket_this_user_may_not_use_is_no_engine() -> None:
    """An engine's socket owned by root, mode 0600 (as a Docker socket is to a user outside the docker group): the
    collector, run as nobody, reports no containers and says why once at INFO."""
    directory = tempfile.mkdtemp(prefix="monitoring-socket-")  # pytest's tmp_path is closed to other users
    path = os.path.join(directory, "engine.sock")
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(path)
    listening.listen()
    os.chmod(path, 0o600)
    os.chmod(directory, 0o755)
    program = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stderr, format='%(levelname)s %(message)s')\n"
        "from config.settings import load_settings\n"
        "from monitoring.collectors import containers\n"
        f"settings = load_settings({{'CONTAINER_ENGINE_SOCKET': {path!r}, 'LOG_FILE': 'off'}})\n"
        "for _ in range(2):\n"
        "    reading = containers.collect(settings)\n"
        "    print(reading.engine, len(reading.containers), reading.problems)\n"
    )
    try:
        result = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", program],
            cwd=ROOT,
            env={**clean_environ(), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        listening.close()
        shutil.rmtree(directory)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["None 0 []", "None 0 []"]
    lines = [line for line in result.stderr.splitlines() if "no containers to report" in line]
    assert len(lines) == 1 and lines[0].startswith("INFO") and "Permission denied" in lines[0], result.stderr
