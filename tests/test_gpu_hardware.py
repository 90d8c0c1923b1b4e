"""The GPU collector against this machine's own NVIDIA driver, checked against what nvidia-smi reads from it.

Runs only where a driver is installed (a GPU machine); everywhere else test_gpu_collector covers the same code
against the fake NVML. From the collector itself through the monitor's tables to an agent's push at a hub.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from config.settings import Settings
from monitoring.collectors import gpu
from tests.agent_process import agent_environ, start_agent, stop_agent, wait_for
from tests.conftest import MAIN
from tests.test_agent_hub import HOST, hub_running

if TYPE_CHECKING:
    from tests.conftest import Workspace

pytestmark = pytest.mark.skipif(
    shutil.which("nvidia-smi") is None or not os.path.exists(gpu.NVIDIA_CONTROL_DEVICE),
    reason="no NVIDIA driver on this machine",
)
GPU_FIELDS = ("index", "name", "uuid", "memory.total", "memory.used", "enforced.power.limit", "temperature.gpu")


def nvidia_smi(query: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """One dict per line of `nvidia-smi --query-QUERY=FIELDS` (e.g. query "gpu" or "compute-apps")."""
    output = subprocess.run(
        ["nvidia-smi", f"--query-{query}={','.join(fields)}", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    lines = [line.split(",") for line in output.splitlines() if line]
    return [dict(zip(fields, (value.strip() for value in values), strict=True)) for values in lines]


def number(text: str) -> float | None:
    """nvidia-smi's figure, None for "[N/A]" or "[Not Supported]"."""
    return None if text.startswith("[") else float(text)


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for()


def test_the_collector_reads_what_nvidia_smi_reads(settings: Settings) -> None:
    expected = nvidia_smi("gpu", GPU_FIELDS)

    reading = gpu.collect(settings)

    assert reading.problems == []
    assert [(device.index, device.name, device.uuid) for device in reading.devices] == [
        (int(row["index"]), row["name"], row["uuid"]) for row in expected
    ]
    for device, row in zip(reading.devices, expected, strict=True):
        assert device.memory_total_mib == pytest.approx(number(row["memory.total"]), abs=1), row
        # Used memory moves as programs allocate; the driver's reserve (hundreds of MiB) must not be in it.
        assert device.memory_used_mib == pytest.approx(number(row["memory.used"]), abs=64), row
        assert device.power_limit_watts == pytest.approx(number(row["enforced.power.limit"]), abs=1), row
        assert device.temperature_celsius == pytest.approx(number(row["temperature.gpu"]), abs=5), row
        assert device.power_draw_watts is not None and device.power_draw_watts > 0
        assert device.utilization_percent is not None and 0 <= device.utilization_percent <= 100


def test_the_processes_on_each_gpu_are_those_nvidia_smi_lists(settings: Settings) -> None:
    applications = nvidia_smi("compute-apps", ("gpu_uuid", "pid", "used_memory"))
    if not applications:
        pytest.skip("no process is using a GPU right now")

    reading = gpu.collect(settings)

    listed = {(device.uuid, process.pid): process for device in reading.devices for process in device.processes}
    for application in applications:
        process = listed.get((application["gpu_uuid"], int(application["pid"])))
        assert process is not None, (application, listed)
        assert process.used_memory_mib == pytest.approx(number(application["used_memory"]), abs=2), application
        assert process.name, application


def test_the_monitor_stores_every_gpu_of_this_machine(workspace: Workspace) -> None:
    expected = [(int(row["index"]), row["uuid"]) for row in nvidia_smi("gpu", ("index", "uuid"))]

    completed = workspace.run("monitor", "--quiet", script=MAIN)

    assert completed.returncode == 0, completed.stderr
    with closing(sqlite3.connect(workspace.database)) as connection:
        [(gpu_count,)] = connection.execute("SELECT gpu_count FROM system_metrics").fetchall()
        stored = connection.execute(
            "SELECT gpu_index, uuid, memory_total_mib, temperature_celsius, error_message FROM system_metric_gpus"
            " ORDER BY gpu_index"
        ).fetchall()
        outcome = connection.execute(
            "SELECT success, error_message FROM system_metric_collectors WHERE collector = 'gpu'"
        ).fetchall()
    assert gpu_count == len(expected) > 0
    assert [(index, uuid) for index, uuid, *_ in stored] == expected
    assert all(total > 0 and temperature is not None and error is None for _, _, total, temperature, error in stored)
    assert outcome == [(1, None)]


def test_an_agent_pushes_this_machines_gpus_to_the_hub(tmp_path: Path) -> None:
    expected = [row["uuid"] for row in nvidia_smi("gpu", ("uuid",))]
    with hub_running(tmp_path) as hub:
        key = hub.add_host(HOST)
        env = agent_environ(tmp_path, AGENT_HUB_URL=hub.url, AGENT_HOST_KEY=key, AGENT_INTERVAL="1")
        log = tmp_path / "agent-run.log"
        agent = start_agent(env, log)
        try:
            wait_for(lambda: hub_gpus(hub.database), "a sample with its GPUs at the hub", log=log)
        finally:
            stop_agent(agent, log)
    assert hub_gpus(hub.database) == expected


def hub_gpus(database: Path) -> list[str]:
    """The UUIDs of the GPUs in HOST's first sample at the hub, in index order."""
    with closing(sqlite3.connect(database, timeout=30)) as connection:
        rows = connection.execute(
            "SELECT g.uuid FROM system_metric_gpus g JOIN system_metrics m ON m.id = g.system_metric_id"
            " WHERE m.hostname = ? AND m.id = (SELECT min(id) FROM system_metrics WHERE hostname = ?)"
            " ORDER BY g.gpu_index",
            (HOST, HOST),
        ).fetchall()
    return [uuid for (uuid,) in rows]
