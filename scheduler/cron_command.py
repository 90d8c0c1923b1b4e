"""`main.py cron next`: check a cron expression by its next fire times, with their UTC offsets."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from scheduler.cli_arguments import MAX_FIRE_TIMES
from scheduler.cron import CronError, fire_times, parse_cron, system_zone, zone_named


def run_cron_next(args: argparse.Namespace, zone_name: str | None) -> int:
    """Print the fire times; a bad expression, zone, date or count is one line and exit code 2."""
    try:
        zone = zone_named(args.tz) if args.tz else zone_or_default(zone_name)
        schedule = parse_cron(args.expression, zone)
        start = _start(args.start, zone)
        check_count(args.count)
    except CronError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_times(fire_times(schedule, start, args.count))
    return 0


def zone_or_default(name: str | None) -> ZoneInfo:
    """SCHEDULER_TIMEZONE's zone, else the system's."""
    return zone_named(name) if name else system_zone()


def check_count(count: int) -> None:
    if not 1 <= count <= MAX_FIRE_TIMES:
        raise CronError(f"-n={count} is invalid; expected a whole number from 1 to {MAX_FIRE_TIMES}")


def print_times(moments: list[datetime]) -> None:
    for moment in moments:
        print(f"{moment:%a} {moment.isoformat(sep=' ')} {moment.tzname()}")


def _start(raw: str | None, zone: ZoneInfo) -> datetime:
    if raw is None:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise CronError(
            f"--from={raw!r} is invalid; expected an ISO 8601 date-time such as 2024-11-02T12:00, "
            f"2024-11-02T12:00:00-04:00 or 2024-11-02T16:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
