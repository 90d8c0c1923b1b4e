"""Command-line actions of the scheduler: `main.py cron next`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from scheduler.cron import CronError, fire_times, parse_cron, system_zone, zone_named

MAX_FIRE_TIMES = 1000


def add_cron_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="cron_command", metavar="ACTION", required=True)
    next_times = actions.add_parser(
        "next", help="print the next fire times of a cron expression, with their UTC offsets",
        description="Check an expression before trusting it: the next N fire times in a time zone, daylight-saving "
                    "changes handled as cron handles them.")
    next_times.add_argument("expression", help="5 fields (minute hour day-of-month month day-of-week) or @hourly, "
                                               "@daily, @weekly, @monthly, @yearly; quote it")
    next_times.add_argument("--tz", metavar="ZONE",
                            help="IANA time zone (default: SCHEDULER_TIMEZONE, else the system zone)")
    next_times.add_argument("--from", dest="start", metavar="ISO-DATETIME",
                            help="count from this moment (default: now); without an offset it is read in --tz")
    next_times.add_argument("-n", dest="count", type=int, default=5, metavar="N",
                            help=f"how many fire times (1-{MAX_FIRE_TIMES}, default 5)")


def run_cron_next(args: argparse.Namespace, default_zone: str | None) -> int:
    """Print the fire times; a bad expression, zone, date or count is one line and exit code 2."""
    try:
        zone = zone_named(args.tz) if args.tz else (zone_named(default_zone) if default_zone else system_zone())
        schedule = parse_cron(args.expression, zone)
        start = _start(args.start, zone)
        if not 1 <= args.count <= MAX_FIRE_TIMES:
            raise CronError(f"-n={args.count} is invalid; expected a whole number from 1 to {MAX_FIRE_TIMES}")
    except CronError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for moment in fire_times(schedule, start, args.count):
        print(f"{moment:%a} {moment.isoformat(sep=' ')} {moment.tzname()}")
    return 0


def _start(raw: str | None, zone: ZoneInfo) -> datetime:
    if raw is None:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise CronError(f"--from={raw!r} is invalid; expected an ISO 8601 date-time such as 2024-11-02T12:00, "
                        f"2024-11-02T12:00:00-04:00 or 2024-11-02T16:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
