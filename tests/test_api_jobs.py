"""/jobs over a real server: add, change, enable, disable, remove, run now and the run history, with the CLI's
checks (a bad cron expression is a 422 that says why)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.api_server import TOKEN, Server, environ, main_py, serving, utc
from tests.conftest import MAIN


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("jobs")
    url = f"sqlite:///{tmp / 'automation.db'}"
    allowed = str(tmp_path_factory.getbasetemp())  # the scripts fixture's folder is in there
    main_py(environ(tmp, url, API_TOKEN=TOKEN), "db", "init")
    with serving(tmp, url, API_TOKEN=TOKEN, JOBS_ALLOWED_DIRS=allowed) as running:
        yield running


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scripts") / "hello.py"
    path.write_text("import os, sys\nprint('hello from', os.environ['AUTOMATION_TRIGGER'], *sys.argv[1:])\n")
    return path


def write(server: Server, method: str, path: str, body: Any = None) -> Any:
    reply = server.request(method, path, body=body, token=TOKEN)
    assert reply.status in (200, 201, 202, 204), f"{method} {path}: {reply.status} {reply.text}"
    return reply.json() if reply.body else None


def wait_for_run(server: Server, execution_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = server.ok(f"/jobs/executions/{execution_id}")
        if run["status"] not in ("pending", "running"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"execution {execution_id} did not finish: {run}")


def test_the_built_in_job_is_listed_with_its_next_run(server: Server) -> None:
    [job] = [job for job in server.ok("/jobs")["items"] if job["name"] == "system_monitoring"]
    assert job["job_type"] == "MONITORING" and job["cron_expression"] == "*/5 * * * *" and job["enabled"]
    next_run = utc(job["next_run_at"])
    assert next_run > datetime.now(timezone.utc) and next_run.minute % 5 == 0 and next_run.second == 0
    assert job["last_run"] is None and job["schedule_error"] is None


def test_add_change_switch_and_remove_a_job(server: Server, script: Path) -> None:
    added = write(
        server,
        "POST",
        "/jobs",
        {
            "name": "hello",
            "cron_expression": "30  1 * * *",
            "script_path": str(script),
            "script_args": ["--loud"],
            "timezone": "America/New_York",
            "timeout_seconds": 30,
        },
    )
    assert added["cron_expression"] == "30 1 * * *" and added["job_type"] == "CUSTOM"
    assert added["script_args"] == ["--loud"] and added["max_retries"] == 0 and added["enabled"] is True
    assert utc(added["next_run_at"]).hour in (5, 6)  # 01:30 in New York is 05:30 or 06:30 UTC
    job_id = added["id"]
    assert server.ok(f"/jobs/{job_id}") == added

    changed = write(server, "PUT", f"/jobs/{job_id}", {"cron_expression": "@hourly", "description": "hourly"})
    assert changed["cron_expression"] == "@hourly" and changed["timezone"] == "America/New_York"
    assert utc(changed["next_run_at"]).minute == 0 and changed["description"] == "hourly"

    assert write(server, "POST", f"/jobs/{job_id}/disable")["enabled"] is False
    assert server.ok(f"/jobs/{job_id}")["next_run_at"] is None
    assert write(server, "POST", f"/jobs/{job_id}/enable")["enabled"] is True

    assert (
        server.request(
            "POST",
            "/jobs",
            body={"name": "hello", "cron_expression": "@daily", "script_path": str(script)},
            token=TOKEN,
        ).status
        == 409
    )
    assert server.request("DELETE", f"/jobs/{job_id}", token=TOKEN).status == 204
    assert server.get(f"/jobs/{job_id}").status == 404
    assert server.request("DELETE", f"/jobs/{job_id}", token=TOKEN).status == 404


@pytest.mark.parametrize(
    "body, field, reason",
    [
        ({"cron_expression": "61 * * * *"}, "cron_expression", "cron expression that can fire"),
        ({"cron_expression": "0 0 31 2 *"}, "cron_expression", "cron expression that can fire"),
        ({"cron_expression": "@daily", "timezone": "Mars/Olympus"}, "timezone", "IANA time zone"),
        ({"cron_expression": "@daily", "timeout_seconds": 0}, "timeout_seconds", "greater than or equal to 1"),
        ({"cron_expression": "@daily", "max_retries": 1000}, "max_retries", "less than or equal to 100"),
        ({"cron_expression": "@daily", "catch_up": "sometimes"}, "catch_up", "skip|latest|all"),
        ({"cron_expression": "@daily", "job_type": "BATCH"}, "job_type", "MONITORING|BACKUP"),
        ({"cron_expression": "@daily", "script_path": "no/such/script.py"}, "script_path", "an existing file"),
        ({"cron_expression": "@daily"}, "script_path", "a script for every job type but MONITORING"),
        ({"cron_expression": "@daily", "script_path": "main.py"}, "script_path", "a script inside JOBS_ALLOWED_DIRS"),
        ({"cron_expression": "@daily", "script_path": "/bin/sh"}, "script_path", "a script inside JOBS_ALLOWED_DIRS"),
        ({"cron_expression": "@daily", "script_args": "--loud"}, "script_args", "list"),
        ({"cron_expression": "@daily", "colour": "red"}, "colour", "Extra inputs"),
        ({"script_path": "main.py"}, "cron_expression", "Field required"),
        (
            {"cron_expression": "@daily", "description": "a\x00b"},
            "description",
            "without NUL",
        ),  # PostgreSQL refuses NUL
        ({"cron_expression": "@daily", "script_args": ["ok", "a\x00b"]}, "script_args", "without NUL"),
    ],
)
def test_bad_job_settings_are_a_422_that_says_why(
    server: Server, body: dict[str, Any], field: str, reason: str
) -> None:
    reply = server.request("POST", "/jobs", body={"name": "bad", **body}, token=TOKEN)
    assert reply.status == 422, reply.text
    detail = reply.json()["detail"]
    assert detail.startswith(field) and reason in detail, detail
    assert "bad" not in {job["name"] for job in server.ok("/jobs")["items"]}


@pytest.mark.parametrize(
    "name", ["", " hello", "hello ", "x" * 129], ids=["empty", "leading space", "trailing space", "129 characters"]
)
def test_a_bad_name_is_a_422_as_on_the_command_line(server: Server, name: str) -> None:
    reply = server.request(
        "POST", "/jobs", body={"name": name, "cron_expression": "@daily", "job_type": "MONITORING"}, token=TOKEN
    )
    assert reply.status == 422 and reply.json()["detail"].startswith("name="), reply.text
    assert name not in {job["name"] for job in server.ok("/jobs")["items"]}


def test_changing_the_zone_checks_the_expression_again_and_unknown_ids_are_404(server: Server) -> None:
    reply = server.request("PUT", "/jobs/1", body={"timezone": "Nowhere/City"}, token=TOKEN)
    assert reply.status == 422 and reply.json()["detail"].startswith("timezone=")
    for method, path in (
        ("PUT", "/jobs/999"),
        ("POST", "/jobs/999/enable"),
        ("POST", "/jobs/999/execute"),
        ("DELETE", "/jobs/999"),
    ):
        assert server.request(method, path, body={}, token=TOKEN).status == 404, (method, path)
    assert server.get("/jobs/999/executions").status == 404
    assert server.get("/jobs/executions/999").status == 404
    assert server.get("/jobs/executions?status=lost").status == 422
    for path in (f"/jobs/{2**63}", "/jobs/0", f"/jobs/executions/{2**63}", f"/jobs/{2**63}/executions"):
        reply = server.get(path)  # past what an id column holds: named, not a database error
        assert reply.status == 422 and reply.json()["detail"].split("=")[0] in ("job_id", "execution_id"), reply.text
    assert server.request("DELETE", f"/jobs/{2**63}", token=TOKEN).status == 422


@contextmanager
def scheduler_beside(server: Server) -> Iterator[subprocess.Popen]:
    """`python main.py run --no-dashboard` on the server's database, beating, until the block ends."""
    scheduler = subprocess.Popen(
        [sys.executable, str(MAIN), "run", "--no-dashboard"],
        env=server.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not server.get("/monitoring/health").json()["scheduler"]["ok"]:
            assert time.monotonic() < deadline and scheduler.poll() is None, "the scheduler did not start"
            time.sleep(0.2)
        yield scheduler
    finally:
        scheduler.terminate()
        assert scheduler.wait(timeout=60) == 0


def test_run_now_is_refused_while_no_scheduler_runs(server: Server, script: Path) -> None:
    job = write(server, "POST", "/jobs", {"name": "lonely", "cron_expression": "0 0 1 1 *", "script_path": str(script)})
    reply = server.request("POST", f"/jobs/{job['id']}/execute", token=TOKEN)
    assert reply.status == 503 and "python main.py run" in reply.json()["detail"], reply.text
    assert server.ok(f"/jobs/{job['id']}/executions")["items"] == []  # nothing queued that nobody would run


@pytest.mark.slow
def test_run_now_queues_a_manual_run_that_a_scheduler_completes_with_its_output(server: Server, script: Path) -> None:
    job = write(
        server,
        "POST",
        "/jobs",
        {"name": "greeter", "cron_expression": "0 0 1 1 *", "script_path": str(script), "script_args": ["world"]},
    )
    with scheduler_beside(server):
        reply = server.request("POST", f"/jobs/{job['id']}/execute", token=TOKEN)
        assert reply.status == 202 and reply.json()["status"] == "pending" and reply.json()["owner"] is None
        started = reply.json()
        run = wait_for_run(server, started["id"])
    assert run["owner"] and not run["owner"].startswith("direct:")  # the scheduler that took it owns it
    assert reply.headers["location"] == f"/jobs/executions/{started['id']}"
    assert started["trigger"] == "manual" and started["job_name"] == "greeter" and started["scheduled_for"] is None
    assert run["status"] == "success" and run["exit_code"] == 0, run
    assert run["stdout"].strip() == "hello from manual world"
    assert utc(run["completed_at"]) >= utc(run["started_at"])
    history = server.ok(f"/jobs/{job['id']}/executions")["items"]
    assert [item["id"] for item in history] == [started["id"]] and "stdout" not in history[0]
    assert started["id"] in [item["id"] for item in server.ok("/jobs/executions?status=success")["items"]]
    assert server.ok(f"/jobs/{job['id']}")["last_run"]["status"] == "success"
