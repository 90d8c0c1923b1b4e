"""Enumerations stored in VARCHAR columns: the jobs tables' (by member name, e.g. 'MONITORING', or by value) and
the deliveries' status (by value, as TextEnum)."""

from __future__ import annotations

import enum


class TextEnum(str, enum.Enum):
    """A str enum whose str() and format() are its value: PyMySQL escapes a str subclass through str(), which
    for a plain (str, Enum) member is 'Class.MEMBER', so binding such a member to a String column would store
    that instead of the value."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)


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
