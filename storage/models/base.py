"""Declarative base over the Core metadata in storage.tables (the schema is defined once, there)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from storage.tables import metadata


class Base(DeclarativeBase):
    metadata = metadata
