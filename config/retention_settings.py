"""How long history is kept: `main.py db prune` (the built-in data_retention job runs it daily) deletes what is
older. See .env.example's "Retention" section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from config.fields import OFF_WORDS, parse_int

RETENTION_KEYS = ("RETENTION_METRICS_DAYS", "RETENTION_NOTIFICATIONS_DAYS", "RETENTION_JOB_EXECUTIONS_DAYS")
MAX_DAYS = 36500
# Samples younger than a day feed the rates, the disk-full trend and the dashboard's 24 h chart.
MIN_METRICS_DAYS = 1


class RetentionSettings(NamedTuple):
    """Days to keep each kind of history; None keeps it forever."""

    metrics_days: int | None  # system_metrics and their detail rows
    notifications_days: int | None  # notifications with their deliveries, resolved incidents, ended silences
    job_executions_days: int | None  # finished job_executions


def parse_retention_settings(values: Mapping[str, str]) -> RetentionSettings:
    def days(key: str, default: str, minimum: int = 1) -> int | None:
        raw = (values.get(key) or "").strip() or default
        if raw.casefold() in OFF_WORDS:
            return None
        allowed = f"a whole number of days from {minimum} to {MAX_DAYS}, or off to keep everything"
        return parse_int(key, raw, minimum, MAX_DAYS, allowed)

    return RetentionSettings(
        metrics_days=days("RETENTION_METRICS_DAYS", "90", MIN_METRICS_DAYS),
        notifications_days=days("RETENTION_NOTIFICATIONS_DAYS", "365"),
        job_executions_days=days("RETENTION_JOB_EXECUTIONS_DAYS", "90"),
    )
