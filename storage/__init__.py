"""Storage: the one place that knows SQL. SQLite by default, PostgreSQL or MySQL/MariaDB by DATABASE_URL.

`from storage import db, init_database, Job, JobType, SystemMetric, Notification` works; the ORM models are
imported on first use only, so a one-shot monitor run (which writes through Core) does not pay for mapping.
"""

from __future__ import annotations

from typing import Any

from storage.database import Database, db
from storage.enums import DeliveryStatus, ExecutionStatus, ExecutionTrigger, JobType
from storage.schema import init_database, upgrade_database

_MODELS = (
    "AlertIncident",
    "AlertSilence",
    "Base",
    "Job",
    "JobExecution",
    "Notification",
    "ProcessCpuBaseline",
    "SystemMetric",
    "SystemMetricCollector",
    "SystemMetricCpuCore",
    "SystemMetricDisk",
    "SystemMetricGpu",
    "SystemMetricGpuProcess",
    "SystemMetricNetwork",
    "SystemMetricProcess",
    "SystemMetricSensor",
    "NotificationDelivery",
)

__all__ = [
    "Database",
    "DeliveryStatus",
    "ExecutionStatus",
    "ExecutionTrigger",
    "JobType",
    "db",
    "init_database",
    "upgrade_database",
    *_MODELS,
]


def __getattr__(name: str) -> Any:
    if name in _MODELS:
        from storage import models

        return getattr(models, name)
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
