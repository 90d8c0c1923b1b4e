"""The engine and session factory of this process.

Bound lazily from DATABASE_URL, so `from storage import db` is free until the first query; the ORM is imported
only when a session is first asked for. SQLite gets WAL,
a busy timeout and foreign keys, and transactions that really begin where SQLAlchemy begins them (pysqlite
otherwise defers BEGIN), which also makes `BEGIN IMMEDIATE` possible through
`connection.execution_options(sqlite_begin="IMMEDIATE")`. A SQLite file deleted or replaced under a running
process is noticed: no connection or transaction is begun on it after that (DatabaseUnavailable), and
file_problem() says why.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, CursorResult, Engine, make_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

from config.defaults import DATABASE_BUSY_TIMEOUT_SECONDS
from config.paths import OWNER_ONLY_FILE_MODE, private_folder

SQLITE_BEGIN_OPTION = "sqlite_begin"
log = logging.getLogger("automation.storage")


class DatabaseUnavailable(Exception):
    """The database cannot be used: its SQLite file's folder cannot be made, or the file was deleted or replaced
    while in use. str() is one line."""


def database_failure(error: BaseException) -> str | None:
    """One line for an error that means the database cannot be used (unreachable, unwritable, missing, not a
    database: the driver's first line, without SQLAlchemy's SQL dump); None for any other error."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, DatabaseUnavailable):
        return str(error)
    if not isinstance(error, DBAPIError):
        return None
    cause = error.orig or error
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}".rstrip(": ")


class Database:
    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._session_factory: sessionmaker[Session] | None = None
        self._bound_to: tuple[str, float] | None = None
        self._url: str | None = None

    def configure(self, url: str, busy_timeout_seconds: float = DATABASE_BUSY_TIMEOUT_SECONDS) -> Engine:
        """(Re)bind to `url`; a SQLite file's folder is created when missing (0700, the file 0600)."""
        self.dispose()
        self._url = url
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

    @property
    def shown_url(self) -> str:
        """The URL bound (or last asked for), without its password: for messages."""
        return make_url(self._url).render_as_string(hide_password=True) if self._url else "(not configured)"

    def file_problem(self) -> str | None:
        """Why the bound SQLite file can no longer be used (deleted or replaced while in use); None if it can,
        or for another backend."""
        watch = _FILE_WATCHES.get(self._engine) if self._engine is not None else None
        return watch.problem() if watch is not None else None

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
        try:
            private_folder(database_file.parent)
        except OSError as error:
            raise DatabaseUnavailable(
                f"cannot create the folder {database_file.parent}: {error.strerror or error}"
            ) from None
    engine = create_engine(parsed, connect_args={"timeout": busy_timeout_seconds})
    busy_timeout_ms = int(busy_timeout_seconds * 1000)
    watch = _FileWatch(database_file) if database_file is not None else None
    if watch is not None:
        _FILE_WATCHES[engine] = watch
        event.listen(engine, "do_connect", lambda *_: watch.check())

    @event.listens_for(engine, "do_connect")
    def _create_private(*_args: Any) -> None:
        """The file is made 0600 before SQLite opens it (SQLite would use the umask: 0644); its -wal and -shm
        files take the main file's mode."""
        if database_file is not None and not database_file.exists():
            with contextlib.suppress(FileExistsError):  # another process made it meanwhile
                os.close(os.open(database_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE_MODE))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        if watch is not None:
            watch.opened()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if watch is not None:
            watch.check()
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


class _FileWatch:
    """The identity (device, inode) of a SQLite file as first opened. Deleted or replaced under a running process,
    it is no longer the database: SQLite would go on writing to the unlinked file (lost at exit) or open a new
    empty one, so nothing is begun on it any more, and the first time this is noticed it is logged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.identity: tuple[int, int] | None = None
        self.reported = False

    def opened(self) -> None:
        if self.identity is None:
            try:
                status = os.stat(self.path)
            except OSError:
                return
            self.identity = (status.st_dev, status.st_ino)

    def problem(self) -> str | None:
        if self.identity is None:
            return None
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            problem = f"the database file {self.path} was deleted while in use"
        else:
            if (status.st_dev, status.st_ino) == self.identity:
                return None
            problem = f"the database file {self.path} was replaced while in use"
        if not self.reported:
            self.reported = True
            log.error("%s; nothing more is written to it until a restart", problem)
        return problem

    def check(self) -> None:
        problem = self.problem()
        if problem is not None:
            raise DatabaseUnavailable(problem)


_FILE_WATCHES: WeakKeyDictionary[Engine, _FileWatch] = WeakKeyDictionary()

db = Database()
