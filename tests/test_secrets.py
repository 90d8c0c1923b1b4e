"""Secrets stay secret: a real delivery at LOG_LEVEL=DEBUG to a real HTTP receiver leaves no secret in the log,
on stderr, in the database or in the API; the log filter masks each configured secret; the database, its WAL
and SHM files and the logs are created for their owner only."""

from __future__ import annotations

import logging
import sqlite3
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from config.logging_setup import SecretsFilter, known_secrets
from config.paths import PROJECT_STATE_FOLDERS, private_folder
from config.settings import load_settings
from tests.api_server import TOKEN, serving
from tests.conftest import MAIN, Workspace

PASSWORD, PATH_TOKEN, HEADER_KEY = "PASSWORDsecret1", "hookTOKENsecret2", "HEADERsecret3"
API_KEY = "SGsecretKEY4"  # sendgrid's API key sits where a user name would
CALM = {"CPU_THRESHOLD": "off", "LOAD_THRESHOLD": "off", "SWAP_THRESHOLD": "off", "MEMORY_THRESHOLD": "off"}


class Receiver:
    """A JSON webhook on 127.0.0.1 that keeps each request's path and headers."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                requests.append((self.path, dict(self.headers)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.slow
def test_a_delivery_at_debug_leaves_no_secret_in_logs_rows_or_api(workspace: Workspace, receiver: Receiver) -> None:
    url = f"json://alice:{PASSWORD}@127.0.0.1:{receiver.port}/{PATH_TOKEN}?+X-Api-Key={HEADER_KEY}"
    workspace.write_env(
        LOG_LEVEL="DEBUG", DISK_THRESHOLD="0", NOTIFY_MIN_LEVEL="INFO", NOTIFY_URLS=url, API_TOKEN=TOKEN, **CALM
    )
    result = workspace.run("monitor", script=MAIN)
    assert result.returncode == 0, result.stderr
    assert receiver.requests  # the secrets did reach the service ...
    for path, headers in receiver.requests:
        assert path == f"/{PATH_TOKEN}" and headers["X-Api-Key"] == HEADER_KEY
    log = workspace.log_file.read_text()
    assert "JSON POST URL: http://127.0.0.1" in log  # ... Apprise logged at DEBUG, through the filter
    dump = "\n".join(sqlite3.connect(workspace.database).iterdump())
    assert f"json://alice:****@127.0.0.1:{receiver.port}/h...2?%2BX-Api-Key=H...3" in dump
    with serving(workspace.path, f"sqlite:///{workspace.database}", API_TOKEN=TOKEN) as server:
        reply = server.ok("/monitoring/notifications/1", token=TOKEN)
    assert reply["deliveries"][0]["destination"].startswith("json://alice:****@")
    for secret in (PASSWORD, PATH_TOKEN, HEADER_KEY, TOKEN):
        for where, text in {"log": log, "stderr": result.stderr, "database": dump, "api": str(reply)}.items():
            assert secret not in text, f"{secret} in the {where}"


def test_the_filter_masks_every_configured_secret(tmp_path: Path) -> None:
    (tmp_path / "empty.env").write_text("")
    settings = load_settings(
        {
            "AUTOMATION_ENV_FILE": str(tmp_path / "empty.env"),
            "DATABASE_URL": "postgresql+psycopg://monitor:DBsecret5@127.0.0.1/monitoring",
            "API_TOKEN": TOKEN,
            "NOTIFY_URLS": f"sendgrid://{API_KEY}:alerts@example.com/ops@example.com",
            "EMAIL_ENABLED": "true",
            "EMAIL_SMTP_HOST": "smtp.example.com",
            "EMAIL_SMTP_USER": "me@example.com",
            "EMAIL_SMTP_PASSWORD": "SMTPsecret6",
            "EMAIL_TO": "ops@example.com",
        }
    )
    secrets = SecretsFilter(known_secrets(settings))
    try:
        raise RuntimeError(f"login failed with {API_KEY}")
    except RuntimeError as error:
        record = logging.LogRecord(
            "apprise",
            logging.DEBUG,
            __file__,
            1,
            "%s %s %s",
            ("DBsecret5", TOKEN, "SMTPsecret6"),
            (type(error), error, None),
        )
    assert secrets.filter(record) is True
    text = logging.Formatter().format(record)
    assert record.getMessage() == "*** *** ***"
    assert "RuntimeError: login failed with ***" in text
    assert not any(secret in text for secret in (API_KEY, "DBsecret5", TOKEN, "SMTPsecret6"))


def test_the_filter_leaves_a_record_without_secrets_as_it_is() -> None:
    record = logging.LogRecord("automation", logging.INFO, __file__, 1, "%d delivered", (3,), None)
    assert SecretsFilter(["hunter22"]).filter(record) and (record.msg, record.args) == ("%d delivered", (3,))


@pytest.mark.slow
def test_database_wal_shm_and_logs_are_created_for_the_owner_only(workspace: Workspace) -> None:
    workspace.write_env(LOG_MAX_BYTES="300", LOG_BACKUP_COUNT="1", LOG_LEVEL="DEBUG")
    for _ in range(2):  # the second run rotates the log
        assert workspace.run("--quiet").returncode == 0
    with serving(workspace.path, f"sqlite:///{workspace.database}", LOG_FILE=str(workspace.log_file)) as server:
        server.ok("/monitoring/metrics/latest")
        files = [workspace.database, *workspace.database.parent.glob("*.db-*"), *workspace.log_file.parent.iterdir()]
        assert {path.name for path in files} >= {
            "automation.db",
            "automation.db-wal",
            "automation.db-shm",
            "automation.log",
            "automation.log.1",
        }
        assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
    assert mode(workspace.database.parent) == mode(workspace.log_file.parent) == 0o700


def test_private_folder_tightens_the_checkouts_state_folders_only(tmp_path: Path) -> None:
    """git checks data/ and logs/ out with the umask's mode (0755): they are made 0700 when used; a folder the
    user already has elsewhere (LOG_FILE in /var/log) keeps its mode, and a new one is made 0700."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    private_folder(shared)
    private_folder(tmp_path / "new" / "logs")
    for folder in PROJECT_STATE_FOLDERS:
        folder.chmod(0o755)
        private_folder(folder)
    assert [mode(folder) for folder in PROJECT_STATE_FOLDERS] == [0o700, 0o700]
    assert (mode(shared), mode(tmp_path / "new" / "logs")) == (0o755, 0o700)
