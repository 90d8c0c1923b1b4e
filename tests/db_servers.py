"""The three database backends the platform supports, as pytest fixtures: a fresh, empty database per test.

SQLite is a file in the test's tmp_path; PostgreSQL and MariaDB are the local test servers, on which each test
creates its own uniquely named database and drops it afterwards, so runs never collide. The servers are part
of the test environment: when one cannot be reached the test fails with a clear message instead of skipping.

Test modules load this file with `pytest_plugins = ["db_servers"]` after importing its helpers, too late for
pytest to rewrite its asserts (they carry their own messages): PYTEST_DONT_REWRITE says so and silences the warning.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Row, create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Server:
    """A database server reachable through `admin_url`, whose database always exists."""

    label: str
    admin_url: str
    drop_options: str = ""

    def url_for(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    @contextmanager
    def fresh_database(self) -> Iterator[str]:
        """CREATE DATABASE t_<random hex>, yield its URL, DROP it (even when the test failed)."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            try:
                with admin.connect() as connection:
                    connection.execute(text(f"CREATE DATABASE {name}"))
            except OperationalError as error:
                pytest.fail(
                    f"the {self.label} test server ({self.admin_url}) is unreachable: {error.orig}. It is "
                    f"part of the test environment; start it rather than skipping these tests.",
                    pytrace=False,
                )
            try:
                yield self.url_for(name)
            finally:
                from storage.database import db

                db.dispose()  # pooled connections would block (PostgreSQL) or outlive the DROP
                with admin.connect() as connection:
                    connection.execute(text(f"DROP DATABASE IF EXISTS {name}{self.drop_options}"))
        finally:
            admin.dispose()


SERVERS = {
    "postgresql": Server("PostgreSQL", "postgresql+psycopg://postgres@127.0.0.1:5432/test", " WITH (FORCE)"),
    "mysql": Server("MariaDB", "mysql+pymysql://root@127.0.0.1:3306/test"),
}

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    # The servers' variants run in CI; the fast lane (-m "not slow") keeps the SQLite one of each test.
    pytest.param("postgresql", id="postgresql", marks=[pytest.mark.postgresql, pytest.mark.slow]),
    pytest.param("mysql", id="mysql", marks=[pytest.mark.mysql, pytest.mark.slow]),
]

# The seed platform's documented queries, verbatim: they must keep working on every database it upgrades.
SEED_METRICS_QUERY = (
    "SELECT timestamp, hostname, cpu_percent, memory_percent, disk_percent "
    "FROM system_metrics ORDER BY timestamp DESC LIMIT 10;"
)
SEED_NOTIFICATIONS_QUERY = (
    "SELECT title, level, message, sent_at FROM notifications "
    "WHERE channel = 'system_monitoring' ORDER BY sent_at DESC LIMIT 10;"
)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend (the SQLite one is the workspace fixture's file)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "data" / "automation.db")
    else:
        with SERVERS[request.param].fresh_database() as url:
            yield url


@contextmanager
def connect(url: str) -> Iterator[Connection]:
    """A connection of the test's own, independent of storage.db, that leaves no pool behind."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def fetch(url: str, sql: str, **params: Any) -> list[Row[Any]]:
    """Rows of one query, read the way an operator would: plain SQL, no project code in between."""
    with connect(url) as connection:
        return list(connection.execute(text(sql), params))


def assert_succeeded(completed: subprocess.CompletedProcess[str]) -> None:
    """Exit status 0, or a failure that shows what the process printed."""
    assert completed.returncode == 0, (
        f"{completed.args} exited {completed.returncode}\n"
        f"--- stdout\n{completed.stdout}\n--- stderr\n{completed.stderr}"
    )
