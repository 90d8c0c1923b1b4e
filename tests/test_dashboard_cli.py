"""`python main.py run` serves the dashboard in the scheduler's process (one SIGTERM stops both); `run
--no-dashboard` and DASHBOARD_ENABLED=false run the scheduler alone; a busy port is fatal for `serve` and only a
warning for `run` (another scheduler on this machine serves the dashboard)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.api_server import TOKEN, environ, free_port, main_py, serving
from tests.conftest import MAIN
from tests.db_servers import fetch


def query(url: str, sql: str) -> list[tuple]:
    return [tuple(row) for row in fetch(url, sql)]


def wait_for(condition, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/monitoring/health", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, ConnectionError):
        return False


@pytest.mark.slow
def test_run_serves_the_dashboard_beside_the_scheduler(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'automation.db'}"
    main_py(environ(tmp_path, url), "db", "init")
    with serving(tmp_path, url, command="run", API_TOKEN=TOKEN) as server:
        wait_for(lambda: server.get("/monitoring/health").status == 200, "a healthy platform")
        health = server.ok("/monitoring/health")
        assert health["scheduler"]["running_instances"] == 1 and health["monitoring"]["ok"] is True
        assert health["reasons"] == []
        started = server.request("POST", "/jobs/1/execute", token=TOKEN).json()
        wait_for(lambda: server.ok(f"/jobs/executions/{started['id']}")["status"] == "success", "the run")
        [(instance,)] = query(url, "SELECT id FROM scheduler_instances")
        # the scheduler took the queued run as its own: abandoned, like scheduled runs, if this process dies
        assert server.ok(f"/jobs/executions/{started['id']}")["owner"] == instance
        port = int(server.base_url.rsplit(":", 1)[1])
    # serving() sent SIGTERM and saw exit code 0: both the scheduler and the server stopped
    assert query(url, "SELECT stopped_at IS NOT NULL FROM scheduler_instances") == [(1,)]
    assert not answers(port)


@pytest.mark.slow
@pytest.mark.parametrize(
    "arguments, settings", [(["--no-dashboard"], {"API_HOST": "0.0.0.0"}), ([], {"DASHBOARD_ENABLED": "false"})]
)
def test_the_scheduler_alone(tmp_path: Path, arguments: list[str], settings: dict[str, str]) -> None:
    url = f"sqlite:///{tmp_path / 'automation.db'}"
    port = free_port()
    env = environ(tmp_path, url, API_PORT=str(port), **settings)
    main_py(env, "db", "init")
    process = subprocess.Popen(
        [sys.executable, str(MAIN), "run", *arguments],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: query(url, "SELECT count(*) FROM scheduler_instances") == [(1,)], "the scheduler to start")
        assert not answers(port)
    finally:
        process.terminate()
        output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output
    assert "Dashboard serving" not in output


@pytest.mark.slow
def test_a_busy_port_stops_serve_but_not_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'automation.db'}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = environ(tmp_path, url, API_PORT=str(port))
        main_py(env, "db", "init")
        serve = subprocess.run(
            [sys.executable, str(MAIN), "serve"], env=env, capture_output=True, text=True, timeout=60
        )
        assert serve.returncode == 2
        assert serve.stderr.strip().splitlines()[-1].startswith(f"dashboard error: cannot listen on 127.0.0.1:{port}")
        run = subprocess.Popen(
            [sys.executable, str(MAIN), "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            wait_for(
                lambda: query(url, "SELECT count(*) FROM scheduler_instances WHERE stopped_at IS NULL") == [(1,)],
                "the scheduler to start without the dashboard",
            )
        finally:
            run.terminate()
            output = run.communicate(timeout=60)[0]
    assert run.returncode == 0, output
    assert "warning: the dashboard is not served: cannot listen on" in output
