"""The engine and session factory of this process.

Bound lazily from DATABASE_URL, so `from storage import db` is free until the first query; the ORM is imported
only when a session is first asked for. SQLite gets WAL,
a busy timeout and foreign keys, and transactions that really begin where SQLAlchemy begins them (pysqlite
otherwise defers BEGIN), which also makes `BEGIN IMMEDIATE` possible through
`connection.execution_options(sqlite_begin="IMMEDIATE")`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, CursorResult, Engine, make_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

from config.defaults import DATABASE_BUSY_TIMEOUT_SECONDS

SQLITE_BEGIN_OPTION = "sqlite_begin"
PRIVATE_FILE_MODE = 0o600  # a SQLite database made here, and its -wal and -shm files
PRIVATE_FOLDER_MODE = 0o700  # the folder made for it


class Database:
    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._session_factory: sessionmaker[Session] | None = None
        self._bound_to: tuple[str, float] | None = None

    def configure(self, url: str, busy_timeout_seconds: float = DATABASE_BUSY_TIMEOUT_SECONDS) -> Engine:
        """(Re)bind to `url`; a SQLite file's folder is created when missing (0700, the file 0600)."""
        self.dispose()
        self._engine = create_database_engine(url, busy_timeout_seconds)
        self._bound_to = (url, busy_timeout_seconds)
        return self._engine

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from config import load_settings

            settings = load_settings()
            self.configure(settings.database_url, settings.database_busy_timeout_seconds)
        assert self._engine is not None
        return self._engine

    def bind(self, url: str, busy_timeout_seconds: float = DATABASE_BUSY_TIMEOUT_SECONDS) -> Engine:
        """Bind to `url` unless already bound to it: a warm engine (a pre-forked worker's) is kept."""
        if self._engine is not None and self._bound_to == (url, busy_timeout_seconds):
            return self._engine
        return self.configure(url, busy_timeout_seconds)

    @contextmanager
    def session_scope(self, writes: bool = False) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back if it raises.

        `writes=True` for a block that reads and then writes: on SQLite its transaction takes the write lock
        at BEGIN (IMMEDIATE), so it waits for other writers instead of failing with "database is locked" when
        another process commits between its read and its write.
        """
        session = self._sessions()()
        if writes:
            session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _sessions(self) -> sessionmaker[Session]:
        """The session factory, made on first use: importing the ORM costs a one-shot monitor run (which
        writes through Core) about 30 ms."""
        if self._session_factory is None:
            from sqlalchemy.orm import sessionmaker

            self._session_factory = sessionmaker(self.engine, expire_on_commit=False)
        return self._session_factory

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self._engine = self._session_factory = self._bound_to = None


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A Core transaction that reads then writes: on SQLite it takes the write lock at BEGIN (IMMEDIATE), so
    two processes cannot both read the same state and then both act on it."""
    with engine.connect() as connection:
        connection = connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with connection.begin():
            yield connection


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT of one row wrote."""
    key = result.inserted_primary_key
    assert key is not None, "not a single-row INSERT"
    return int(key[0])


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database or another backend."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def create_database_engine(url: str, busy_timeout_seconds: float = DATABASE_BUSY_TIMEOUT_SECONDS) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        options: dict[str, Any] = {"pool_pre_ping": True}
        if parsed.get_backend_name() in ("mysql", "mariadb"):
            options["pool_recycle"] = 3600
        return create_engine(parsed, **options)

    database_file = sqlite_file(url)
    if database_file is not None:
        database_file.parent.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": busy_timeout_seconds})
    busy_timeout_ms = int(busy_timeout_seconds * 1000)

    @event.listens_for(engine, "do_connect")
    def _create_private(*_args: Any) -> None:
        """The file is made 0600 before SQLite opens it (SQLite would use the umask: 0644); its -wal and -shm
        files take the main file's mode."""
        if database_file is not None and not database_file.exists():
            with contextlib.suppress(FileExistsError):  # another process made it meanwhile
                os.close(os.open(database_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


db = Database()
