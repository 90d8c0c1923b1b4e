"""Alert state: incidents (one row per breach, from pending to resolved), silences and deliveries."""

from __future__ import annotations

from storage import tables
from storage.models.base import Base


class AlertIncident(Base):
    __table__ = tables.alert_incidents
    repr_columns = ("id", "host", "metric", "resource", "status")


class AlertSilence(Base):
    __table__ = tables.alert_silences


class NotificationDelivery(Base):
    __table__ = tables.notification_deliveries
