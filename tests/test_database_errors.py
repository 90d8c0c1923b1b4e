"""A database that cannot be used is one line and a non-zero exit for every command that needs one, never a
traceback; a SQLite file deleted under a running server is noticed, not written to. Real processes, real
files (an immutable one for "unwritable": root writes through mode bits), a closed PostgreSQL port."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api_server import TOKEN, Server, environ, free_port, main_py, serving, wait_until_serving
from tests.conftest import MAIN
from tests.test_scheduler import wait_for

COMMANDS = [
    ("run", "--no-dashboard"),
    ("serve",),
    ("jobs", "list"),
    ("jobs", "run", "system_monitoring"),
    ("alerts", "list"),
    ("db", "init"),
    ("db", "prune"),
]


def immutable(path: Path, on: bool) -> None:
    subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True, capture_output=True)


@pytest.fixture
def unwritable_database(tmp_path: Path) -> Iterator[str]:
    """A database at the current schema whose file cannot be written."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    url = f"sqlite:///{tmp_path / 'read-only.db'}"
    main_py(environ(tmp_path, url), "db", "init")
    try:
        immutable(tmp_path / "read-only.db", True)
    except subprocess.CalledProcessError as error:
        pytest.skip(f"this file system has no immutable files: {error.stderr.strip()}")
    yield url
    immutable(tmp_path / "read-only.db", False)


def failing_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, str]:
    """A DATABASE_URL that cannot be used, and the reason the command must give."""
    if kind == "missing folder":
        (tmp_path / "a-file").write_text("")
        return f"sqlite:///{tmp_path / 'a-file' / 'sub' / 'x.db'}", "cannot create the folder"
    if kind == "unwritable file":
        return request.getfixturevalue("unwritable_database"), "attempt to write a readonly database"
    return f"postgresql+psycopg://postgres:secret@127.0.0.1:{free_port()}/x", "Connection refused"


@pytest.mark.parametrize("kind", ["missing folder", "unwritable file", "unreachable server"])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_database_that_cannot_be_used_is_one_line(
    command: tuple[str, ...], kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url, reason = failing_url(kind, tmp_path, request)
    env = environ(tmp_path, url, LOG_FILE="off", DASHBOARD_ENABLED="false", API_PORT=str(free_port()))
    result = subprocess.run([sys.executable, str(MAIN), *command], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.splitlines()
    shown = url.replace(":secret@", ":***@")
    assert line.startswith(f"error: database {shown}: ") and reason in line, line
    assert "secret" not in line


@pytest.mark.slow
def test_a_database_file_deleted_under_the_server_is_noticed_not_written(tmp_path: Path) -> None:
    database = tmp_path / "automation.db"
    url = f"sqlite:///{database}"
    main_py(environ(tmp_path, url), "db", "init")
    with serving(tmp_path, url, API_TOKEN=TOKEN) as server:
        assert server.get("/monitoring/health").json()["database"] == {"ok": True}
        database.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        reply = server.get("/monitoring/health")
        assert reply.status == 503
        reason = f"database: the database file {database} was deleted while in use"
        assert reply.json()["reasons"] == [reason] and reply.json()["database"]["ok"] is False
        assert server.request("POST", "/jobs/1/execute", token=TOKEN).status == 503  # a write: refused
        assert server.get("/monitoring/metrics?limit=1").status == 503  # a read: the database is unavailable
        assert server.get("/monitoring/health").status == 503
        assert not database.exists()  # no new, empty database was opened in its place
    log = (tmp_path / "automation.log").read_text()
    assert log.count("was deleted while in use; nothing more is written to it until a restart") == 1
    assert "Traceback" not in log


@pytest.mark.slow
def test_the_scheduler_waits_out_a_deleted_database_file_and_health_says_so(tmp_path: Path) -> None:
    database, port = tmp_path / "automation.db", free_port()
    env = environ(tmp_path, f"sqlite:///{database}", API_PORT=str(port), SCHEDULER_PREFORK="false")
    main_py(env, "db", "init")
    log = tmp_path / "automation.log"
    with (tmp_path / "run.out").open("w") as output:
        process = subprocess.Popen([sys.executable, str(MAIN), "run"], env=env, stdout=output, stderr=output)
    try:
        wait_until_serving(process, f"http://127.0.0.1:{port}", log)
        wait_for(lambda: "started: 2 enabled job(s)" in log.read_text(), 30, "the scheduler to start")
        database.unlink()
        # two retries: the loop outlived reconnecting to a file that is gone
        wait_for(lambda: log.read_text().count("database unavailable (the database file") >= 2, 30, "two retries")
        assert process.poll() is None
        server = Server(f"http://127.0.0.1:{port}", env, log, process.pid)
        assert server.get("/monitoring/health").json()["reasons"] == [
            f"database: the database file {database} was deleted while in use"
        ]
    finally:
        process.terminate()
        code = process.wait(timeout=60)
    assert code == 1  # it could not record that it stopped, and says so
    assert (
        (tmp_path / "run.out")
        .read_text()
        .strip()
        .endswith(f"Scheduler failed: DatabaseUnavailable: the database file {database} was deleted while in use")
    )
    assert not database.exists()
