"""Creating and upgrading the schema through Alembic, without paying Alembic's import on every run.

Every start checks `alembic_version` against SCHEMA_REVISION (the newest migration; a test keeps the two in
step) and only imports Alembic when the database is new or behind.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from config.paths import PROJECT_ROOT
from storage.database import SQLITE_BEGIN_OPTION, db

SCHEMA_REVISION = "0012"
MIGRATIONS_DIR = PROJECT_ROOT / "storage" / "migrations"
_LOCK_NAME = "automation_platform_schema"
LOCK_TIMEOUT_SECONDS = 60

log = logging.getLogger(__name__)


def current_revision(connection: Connection) -> str | None:
    """The schema revision stamped in the database; None for a database Alembic never touched."""
    try:
        with connection.begin_nested() if connection.in_transaction() else nullcontext():
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no such table
        return None


def init_database(url: str | None = None) -> Engine:
    """Create or upgrade every table, idempotently; binds `db` to `url` when given."""
    engine = db.configure(url) if url else db.engine
    with engine.connect() as connection:
        if current_revision(connection) == SCHEMA_REVISION:
            return engine
    upgrade_database(engine)
    return engine


def upgrade_database(engine: Engine | None = None, revision: str = "head") -> None:
    """Run pending migrations under a lock, so several processes starting at once upgrade exactly once."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # before importing it: its plugin set-up chatter
    from alembic import command
    from alembic.config import Config

    engine = engine or db.engine
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.connect() as connection:
        connection = connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        try:
            with connection.begin():
                _lock(connection)
                config.attributes["connection"] = connection
                before = current_revision(connection)
                command.upgrade(config, revision)
                after = current_revision(connection)
        finally:
            _unlock(connection)
    if before != after:
        log.info("Database schema upgraded from %s to %s", before or "empty", after)


def _lock(connection: Connection) -> None:
    """SQLite holds its write lock from BEGIN IMMEDIATE, PostgreSQL a transaction-scoped advisory lock;
    MySQL/MariaDB a named lock held by the session until _unlock."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": _LOCK_NAME})
    elif dialect in ("mysql", "mariadb"):
        got = connection.execute(
            text("SELECT GET_LOCK(:name, :seconds)"), {"name": _LOCK_NAME, "seconds": LOCK_TIMEOUT_SECONDS}
        ).scalar()
        if got != 1:
            raise RuntimeError(f"another process held the schema lock for over {LOCK_TIMEOUT_SECONDS} s")


def _unlock(connection: Connection) -> None:
    if connection.dialect.name in ("mysql", "mariadb"):
        connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _LOCK_NAME})
        connection.commit()


def require_writable(engine: Engine | None = None) -> None:
    """Raise the driver's error when the database refuses writes (a read-only file, a read-only user): a command
    finds out at its start, not at its first write. The update changes nothing."""
    with (engine or db.engine).connect() as connection:
        connection = connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with connection.begin():
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
