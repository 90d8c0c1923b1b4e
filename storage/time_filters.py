"""The time-range filter the dashboard's reads share: inclusive bounds, either of them open."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select

Statement = TypeVar("Statement", bound=Select[Any])


def in_time_range(
    statement: Statement, column: ColumnElement[datetime], start: datetime | None, end: datetime | None
) -> Statement:
    """`statement` limited to rows whose `column` lies in [start, end]; a None bound does not limit."""
    if start is not None:
        statement = statement.where(column >= start)
    if end is not None:
        statement = statement.where(column <= end)
    return statement
