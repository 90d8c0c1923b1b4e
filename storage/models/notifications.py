"""Alert records: what the dashboard reads and what delivery sends."""

from __future__ import annotations

from storage import tables
from storage.models.base import Base


class Notification(Base):
    __table__ = tables.notifications
    repr_columns = ("id", "level", "title")
