"""Enumerations stored in VARCHAR columns: the jobs tables' (by member name, e.g. 'MONITORING', or by value) and
the deliveries' status (by value, as TextEnum)."""

from __future__ import annotations

import enum

from monitoring.text_enum import TextEnum


class JobType(str, enum.Enum):
    """Kinds of jobs; only MONITORING has built-in behaviour, the others run their script."""

    MONITORING = "monitoring"
    BACKUP = "backup"
    SECURITY = "security"
    LOG_ANALYSIS = "log_analysis"
    CLEANUP = "cleanup"
    REPORT = "report"
    CUSTOM = "custom"


class ExecutionStatus(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"
    MISSED = "missed"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"


class ExecutionTrigger(str, enum.Enum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    CATCH_UP = "catch-up"
    OS_CRON = "os-cron"


class DeliveryStatus(TextEnum):
    """A notification_deliveries row: waiting (pending, then retrying after a failure) or done."""

    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    EXPIRED = "expired"
