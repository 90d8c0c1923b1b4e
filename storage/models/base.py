"""Declarative base over the Core metadata in storage.tables (the schema is defined once, there)."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy.orm import DeclarativeBase

from storage.tables import metadata


class Base(DeclarativeBase):
    metadata = metadata
    # The columns repr() shows: the id and what names the row.
    repr_columns: ClassVar[tuple[str, ...]] = ("id",)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.repr_columns)
        return f"{type(self).__name__}({shown})"
