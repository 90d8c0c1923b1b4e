"""The API keeps the contract it publishes: Schemathesis, a tool written elsewhere, reads /openapi.json of the
real server and sends it schema-valid and schema-violating requests with every check it has (server errors,
status codes, content types, response schemas and headers, Allow headers, authentication, answers within 10 s,
...); it must find nothing. Plus the cases it found before: bodies the framework cannot parse, and ids past 32 bits."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from storage import JobType
from tests.api_server import TOKEN, Reply, Server, environ, insert_rows, main_py, serving
from tests.db_servers import SERVERS

CONFIG = Path(__file__).resolve().parent / "contract" / "schemathesis.toml"
# Enough cases per operation to reach every route's errors, few enough for well under a minute per database.
MAX_EXAMPLES = 15
# One worker: with two, both threads may parse the same module for Hypothesis's description of a lambda at once,
# which CPython 3.11's AST constructor cannot do ("SystemError: AST constructor recursion depth mismatch", a
# Runtime Error of the run, most often where two operations with array bodies are generated side by side). The
# run takes as long with one worker on this 2-core machine (34 s against 38 s here).
# What the server needs to answer more than 404: a stored sample, notifications and an incident (every memory
# figure breaches these), a job and its run.
SETTINGS = {"API_TOKEN": TOKEN, "MEMORY_THRESHOLD": "0.5", "MEMORY_CRITICAL_THRESHOLD": "1"}


@contextmanager
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'automation.db'}"
    else:
        with SERVERS[backend].fresh_database() as url:
            yield url


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=[pytest.mark.postgresql, pytest.mark.slow]),
        pytest.param("mysql", id="mysql", marks=[pytest.mark.mysql, pytest.mark.slow]),
    ],
)
def test_schemathesis_finds_nothing(tmp_path: Path, backend: str) -> None:
    with database(backend, tmp_path) as url:
        env = environ(tmp_path, url, **SETTINGS)
        main_py(env, "db", "init")
        main_py(env, "jobs", "run", "system_monitoring")
        with serving(tmp_path, url, **SETTINGS) as server:
            result = subprocess.run(
                [
                    *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "--no-color"),
                    *("run", f"{server.base_url}/openapi.json", "--checks", "all"),
                    *("--header", f"Authorization: Bearer {TOKEN}"),
                    *("--max-examples", str(MAX_EXAMPLES), "--generation-deterministic"),
                    *("--max-response-time", "10", "--workers", "1", "--request-timeout", "30"),
                ],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=600,
            )
            log = server.log.read_text()
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5000:]
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", result.stdout)
    assert selected and len(set(selected.groups())) == 1, result.stdout[-5000:]  # every operation was tested
    assert "Traceback" not in log, log[-10_000:]


def post_raw(server: Server, path: str, body: bytes) -> Reply:
    """A POST with exactly these bytes as its JSON body (Server.request encodes what it is given)."""
    request = urllib.request.Request(
        server.base_url + path,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


@pytest.mark.slow
def test_unreadable_bodies_and_wrong_methods(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'automation.db'}"
    main_py(environ(tmp_path, url), "db", "init")
    with serving(tmp_path, url, API_TOKEN=TOKEN) as server:
        job = server.request(
            "POST", "/jobs", {"name": "nightly", "cron_expression": "0 3 * * *", "job_type": "MONITORING"}, token=TOKEN
        )
        assert job.status == 201, job.text
        not_utf8 = b'{"name": "caf\xe9", "cron_expression": "0 3 * * *"}'
        deep = b"[" * 5000 + b"]" * 5000
        for path in ("/jobs", "/incidents/silences", "/incidents/1/ack"):
            reply = post_raw(server, path, not_utf8)
            assert reply.status == 400, (path, reply.status, reply.text)
            assert reply.json() == {"detail": "the body is not valid UTF-8 (byte 0xe9 at offset 13)"}, reply.text
            reply = post_raw(server, path, deep)
            assert reply.status == 400, (path, reply.status, reply.text)
            assert reply.json() == {"detail": "the body's JSON is nested too deeply"}, reply.text
        assert server.request("PUT", f"/jobs/{job.json()['id']}", {"enabled": False}, token=TOKEN).status == 200
        for path, allowed in (("/jobs", "GET, POST"), ("/jobs/1/enable", "POST"), ("/jobs/1", "DELETE, GET, PUT")):
            reply = server.request("OPTIONS", path)
            assert (reply.status, reply.headers["allow"]) == (405, allowed), (path, reply.status, reply.headers)
        assert server.request("DELETE", "/jobs/x,y", token=TOKEN).status == 404  # no such path, not a 405
        log = server.log.read_text()
    assert "Traceback" not in log and " ERROR " not in log, log


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("postgresql", marks=[pytest.mark.postgresql, pytest.mark.slow]),
        pytest.param("mysql", marks=[pytest.mark.mysql, pytest.mark.slow]),
    ],
)
def test_ids_up_to_2_to_the_63_minus_1(tmp_path: Path, backend: str) -> None:
    """The largest id the API serves is an unknown row (404), not a driver error; and rows past 32 bits are
    stored and found."""
    big = 2**40
    with database(backend, tmp_path) as url:
        main_py(environ(tmp_path, url), "db", "init")
        job = {"id": big, "name": "big", "cron_expression": "0 3 * * *", "job_type": JobType.MONITORING}
        insert_rows(url, "jobs", [job])
        insert_rows(url, "job_executions", [{"id": big + 1, "job_id": big, "job_name": "big"}])
        with serving(tmp_path, url, API_TOKEN=TOKEN) as server:
            assert server.ok(f"/jobs/{big}")["name"] == "big"
            assert server.ok(f"/jobs/executions/{big + 1}")["job_id"] == big
            assert [row["id"] for row in server.ok(f"/jobs/{big}/executions")["items"]] == [big + 1]
            largest = 2**63 - 1
            for method, path in (
                ("GET", f"/jobs/{largest}"),
                ("GET", f"/jobs/executions/{largest}"),
                ("GET", f"/jobs/{largest}/executions"),
                ("GET", f"/incidents/{largest}"),
                ("GET", f"/monitoring/notifications/{largest}"),
                ("PUT", f"/jobs/{largest}"),
                ("POST", f"/jobs/{largest}/enable"),
                ("POST", f"/incidents/{largest}/ack"),
                ("DELETE", f"/jobs/{largest}"),
            ):
                reply = server.request(method, path, {} if method == "PUT" else None, token=TOKEN)
                assert reply.status == 404, (method, path, reply.status, reply.text)
            assert server.get(f"/jobs/{largest + 1}").status == 422
            log = server.log.read_text()
    assert "Traceback" not in log, log


def test_the_schemas_text_patterns_say_what_the_text_rules_admit() -> None:
    """The published pattern of each kind of text (config.user_text) takes exactly what its rule admits (lone
    surrogates aside: not characters, a pattern cannot name them), so a schema-valid text is never refused."""
    from config import user_text

    samples = ["ok", "a b", "é x", " x", "x ", "a\tb", "a\nb", "a\x07", "a\x9f", "a\u2028", "", " "]
    for rule in (value for value in vars(user_text).values() if isinstance(value, user_text.TextRule)):
        assert "\\ud8" not in rule.pattern, rule  # a validator that reads patterns as ECMA-262 refuses surrogates
        for text in samples:
            sized = rule.min_length <= len(text) <= rule.max_length
            assert (sized and re.fullmatch(rule.pattern, text) is not None) == rule.admits(text), (rule, text)
