"""Column types shared by the models."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# The largest id a query can look up: SQLite's INTEGER (and a 64-bit bind parameter) holds no more, and
# binding a larger one raises instead of finding nothing.
MAX_ID = 2**63 - 1


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (sortable text in SQLite, microseconds in MySQL); read back timezone-aware UTC.

    A naive datetime handed in is taken as UTC; an aware one is converted.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect):  # type: ignore[no-untyped-def]
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects import mysql  # imported only where needed: it is not cheap

            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class LongText(TypeDecorator[str]):
    """TEXT that holds more than MySQL's 64 KiB TEXT (LONGTEXT there); plain TEXT elsewhere."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect):  # type: ignore[no-untyped-def]
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects import mysql  # imported only where needed: it is not cheap

            return dialect.type_descriptor(mysql.LONGTEXT())
        return dialect.type_descriptor(Text())
