"""Who may do what: writes need the bearer token (refused outright without API_TOKEN), API_READ_AUTH guards reads
but not health, CORS stays closed unless ALLOWED_ORIGINS, a token is never logged, and an exposed server without
a token does not start."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.request_limits import INGEST_PATHS
from tests.api_server import TOKEN, Server, environ, main_py, serving
from tests.conftest import MAIN


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("auth-db")
    url = f"sqlite:///{tmp / 'automation.db'}"
    env = environ(tmp, url)
    main_py(env, "db", "init")
    main_py(env, "monitor", "--quiet")
    return url


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("no-token"), database) as server:
        yield server


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Server]:
    with serving(
        tmp_path_factory.mktemp("token"),
        database,
        API_TOKEN=TOKEN,
        LOG_LEVEL="DEBUG",
        ALLOWED_ORIGINS="http://good.example:3000",
    ) as server:
        yield server


@pytest.fixture(scope="module")
def private_server(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("read-auth"), database, API_TOKEN=TOKEN, API_READ_AUTH="true") as server:
        yield server


def write_routes(server: Server) -> list[tuple[str, str]]:
    """Every non-GET route the API documents, with 1 for each path parameter; not the ingest paths, which take a
    host key instead of the token (tests/test_ingest.py, tests/test_seed_agents.py)."""
    routes = []
    for path, operations in server.ok("/openapi.json")["paths"].items():
        if path in INGEST_PATHS:
            continue
        concrete = path.replace("{silence}", "1")
        for name in ("incident_id", "job_id"):
            concrete = concrete.replace("{" + name + "}", "1")
        routes += [(method.upper(), concrete) for method in operations if method != "get"]
    return routes


def test_without_api_token_every_write_is_refused_with_how_to_set_one(open_server: Server) -> None:
    routes = write_routes(open_server)
    assert ("POST", "/jobs") in routes and ("POST", "/jobs/1/execute") in routes and len(routes) >= 9
    for method, path in routes:
        for token in (None, "anything-at-all-123456"):
            reply = open_server.request(method, path, body={}, token=token)
            assert reply.status == 403, (method, path, reply.status, reply.text)
            assert "API_TOKEN" in reply.json()["detail"] and "secrets.token_urlsafe" in reply.json()["detail"]
    assert open_server.get("/jobs").status == 200  # reads stay open
    assert open_server.ok("/jobs/executions")["items"] == []  # and nothing ran


def test_with_api_token_writes_need_exactly_that_bearer_token(token_server: Server) -> None:
    for method, path in write_routes(token_server):
        for headers in (
            {},
            {"Authorization": f"Bearer {TOKEN}x"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": TOKEN},
            {"Authorization": f"Bearer {TOKEN[:-1]}"},
        ):
            reply = token_server.request(method, path, body={}, headers=headers)
            assert reply.status == 401, (method, path, headers, reply.status, reply.text)
            assert reply.headers.get("www-authenticate") == "Bearer"
    enabled = token_server.request("POST", "/jobs/1/disable", token=TOKEN)
    assert enabled.status == 200 and enabled.json()["enabled"] is False
    assert token_server.ok("/jobs/1")["enabled"] is False  # reads need no token here


def test_the_token_is_never_logged(token_server: Server) -> None:
    token_server.request("POST", "/jobs/1/enable", token=TOKEN)
    token_server.request("POST", "/jobs/1/enable", token=TOKEN + "wrong")
    token_server.get("/monitoring/metrics?limit=1", token=TOKEN)
    log_file = Path(token_server.env["AUTOMATION_ENV_FILE"]).parent / "automation.log"
    logged = log_file.read_text() + token_server.log.read_text()
    assert "Dashboard serving on" in logged  # the log is being written (at DEBUG)
    assert TOKEN not in logged


def test_read_auth_guards_reads_but_not_health(private_server: Server) -> None:
    for path in (
        "/monitoring/metrics",
        "/monitoring/metrics/latest",
        "/monitoring/metrics/current",
        "/jobs",
        "/incidents",
        "/api/v1/metrics/cpu",
        "/api/v1/metrics/processes",
        "/metrics",
        "/monitoring/notifications",
        "/monitoring/stats",
    ):
        assert private_server.get(path).status == 401, path
        assert private_server.get(path, token=TOKEN).status == 200, path
    for path in ("/monitoring/health", "/api/v1/health"):
        assert private_server.get(path).status in (200, 503), path
        assert "database" in private_server.get(path).json()
    assert private_server.get("/").status == 200  # the page itself holds no data


def test_cors_is_closed_unless_the_origin_is_listed(open_server: Server, token_server: Server) -> None:
    preflight = {
        "Origin": "http://good.example:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    closed = open_server.request("OPTIONS", "/jobs", headers=preflight)
    assert "access-control-allow-origin" not in {key.lower() for key in closed.headers}
    assert "access-control-allow-origin" not in {
        key.lower() for key in open_server.get("/jobs", headers={"Origin": "http://good.example:3000"}).headers
    }
    allowed = token_server.request("OPTIONS", "/jobs", headers=preflight)
    assert allowed.status == 200 and allowed.headers["access-control-allow-origin"] == "http://good.example:3000"
    listed = token_server.get("/jobs", headers={"Origin": "http://good.example:3000"})
    assert listed.headers["access-control-allow-origin"] == "http://good.example:3000"
    other = token_server.get("/jobs", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in {key.lower() for key in other.headers}


@pytest.mark.parametrize("command", ["serve", "run"])
@pytest.mark.parametrize(
    "settings, key",
    [
        ({"API_HOST": "0.0.0.0"}, "API_HOST=0.0.0.0"),
        ({"API_READ_AUTH": "true"}, "API_READ_AUTH"),
        ({"API_PORT": "70000"}, "API_PORT"),
        ({"API_TOKEN": "short"}, "API_TOKEN='***'"),
        ({"ALLOWED_ORIGINS": "*"}, "ALLOWED_ORIGINS"),
    ],
)
def test_unsafe_or_bad_settings_stop_the_start_with_one_line(
    tmp_path: Path, command: str, settings: dict[str, str], key: str
) -> None:
    env = environ(tmp_path, f"sqlite:///{tmp_path / 'automation.db'}", **settings)
    result = subprocess.run([sys.executable, str(MAIN), command], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], result.stderr
