"""When a job runs next, read from its row the way the scheduler reads it (its own zone, else the default)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.cron import CronError, fire_times, parse_cron, zone_named


def next_run(job: dict[str, Any], default_zone: ZoneInfo, after: datetime) -> tuple[datetime | None, str | None]:
    """The job's next fire time after `after` (None when disabled or unschedulable) and, if it cannot be
    scheduled, why."""
    if not job["enabled"]:
        return None, None
    try:
        zone = zone_named(job["timezone"]) if job["timezone"] else default_zone
        [moment] = fire_times(parse_cron(job["cron_expression"], zone), after, 1)
    except CronError as error:
        return None, str(error)
    return moment, None
