"""The levels a running dashboard serves follow the .env file as it is now (the monitor reads it on every run),
not the one the server started with."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.api_server import Server, serving


def _cpu_levels(server: Server) -> tuple[dict[str, object], dict[str, object]]:
    catalogue = next(item for item in server.ok("/monitoring/catalogue")["items"] if item["metric"] == "cpu_percent")
    thresholds = next(item for item in server.ok("/monitoring/thresholds")["items"] if item["metric"] == "cpu_percent")
    return catalogue, thresholds


def _edit(env_file: Path, **settings: str) -> None:
    """Rewrite the server's .env with `settings` changed, its modification time moved on for certain."""
    before = env_file.stat().st_mtime_ns
    lines = [line for line in env_file.read_text().splitlines() if line.split("=", 1)[0] not in settings]
    env_file.write_text("\n".join([*lines, *(f"{key}={value}" for key, value in settings.items())]) + "\n")
    os.utime(env_file, ns=(before + 1_000_000_000, before + 1_000_000_000))


@pytest.mark.slow
def test_levels_follow_the_env_file_under_a_running_server(tmp_path: Path) -> None:
    with serving(tmp_path, f"sqlite:///{tmp_path / 'automation.db'}", CPU_THRESHOLD="80") as server:
        env_file = Path(server.env["AUTOMATION_ENV_FILE"])
        catalogue, thresholds = _cpu_levels(server)
        assert (catalogue["warning"], catalogue["critical"], thresholds["warning"]) == (80, 95, 80)

        _edit(env_file, CPU_THRESHOLD="42.5", CPU_CRITICAL_THRESHOLD="60")
        catalogue, thresholds = _cpu_levels(server)
        assert (catalogue["warning"], catalogue["critical"]) == (42.5, 60)
        assert (thresholds["warning"], thresholds["critical"]) == (42.5, 60)

        # A bad edit keeps the levels in force and says why once, naming the key.
        _edit(env_file, CPU_THRESHOLD="lots")
        for _ in range(2):
            catalogue, _ = _cpu_levels(server)
            assert (catalogue["warning"], catalogue["critical"]) == (42.5, 60)
        log = Path(server.env["AUTOMATION_ENV_FILE"]).parent / "automation.log"
        deadline = time.monotonic() + 10
        while "CPU_THRESHOLD" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        warnings = [line for line in log.read_text().splitlines() if "levels read before stay in force" in line]
        assert len(warnings) == 1 and "lots" in warnings[0], warnings

        _edit(env_file, CPU_THRESHOLD="off")
        catalogue, _ = _cpu_levels(server)
        assert (catalogue["warning"], catalogue["critical"]) == (None, 60)
