"""Cron expressions: validation, and fire times in a time zone with cron's daylight-saving rules.

Semantics (as cronie, the cron of most Linux distributions):
- 5 fields `minute hour day-of-month month day-of-week`, or @yearly/@annually, @monthly, @weekly,
  @daily/@midnight, @hourly. When day-of-month and day-of-week are both restricted, a day matches if EITHER
  matches (`0 0 13 * 5` fires on the 13th and on every Friday).
- Times are wall-clock times in the schedule's zone. A job whose minute or hour field starts with `*`
  (`*/15 * * * *`, `0 * * * *`) runs normally through daylight-saving changes: it follows real time. Any other
  job has fixed times: one whose time falls in the hour skipped in spring runs once right after the gap, and
  one whose time falls in the hour repeated in autumn runs once, at the first pass (croniter alone returns it
  twice).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
EXPRESSION_HELP = "5 fields 'minute hour day-of-month month day-of-week' (e.g. '*/5 * * * *') or one of " + ", ".join(
    ALIASES
)


class CronField(NamedTuple):
    name: str
    low: int
    high: int
    names: str  # the names cron takes besides numbers


FIELDS = (
    CronField("minute", 0, 59, ""),
    CronField("hour", 0, 23, ""),
    CronField("day-of-month", 1, 31, ""),
    CronField("month", 1, 12, " or jan-dec"),
    CronField("day-of-week", 0, 7, " or sun-sat (0 and 7 are Sunday)"),
)
# Daylight-saving shifts are at most 2 hours anywhere; a candidate this far behind the newest one is final.
_SETTLE = timedelta(hours=3)


class CronError(ValueError):
    """A cron expression or time zone that cannot be used; str() is one line for the user."""


class CronSchedule(NamedTuple):
    expression: str  # as written
    fields: str  # the 5-field form (aliases expanded)
    zone: ZoneInfo

    @property
    def follows_real_time(self) -> bool:
        """cron's 'wildcard' job: minute or hour field starting with `*` runs normally through DST changes."""
        minute, hour = self.fields.split()[:2]
        return minute.startswith("*") or hour.startswith("*")


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"time zone {name!r} is unknown; expected an IANA name such as Europe/Berlin or UTC") from None


def system_zone() -> ZoneInfo:
    """The machine's zone as an IANA zone (so DST rules apply), UTC when it cannot be told."""
    import tzlocal

    try:
        return ZoneInfo(tzlocal.get_localzone_name() or "UTC")
    except (ZoneInfoNotFoundError, ValueError, LookupError):
        return ZoneInfo("UTC")


def parse_cron(expression: str, zone: ZoneInfo) -> CronSchedule:
    """Validate an expression: it must be well formed and able to fire at all (`0 0 31 2 *` cannot)."""
    text = " ".join(expression.split())
    fields = ALIASES.get(text.lower(), text)
    if text.startswith("@") and text.lower() not in ALIASES:
        raise CronError(f"cron expression {expression!r} is invalid; expected {EXPRESSION_HELP}")
    if len(fields.split()) != 5:
        raise CronError(f"cron expression {expression!r} is invalid; expected {EXPRESSION_HELP}")
    if not croniter.is_valid(fields):
        raise CronError(f"cron expression {expression!r} is invalid: {_field_problem(fields.split())}")
    try:
        croniter(fields, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        raise CronError(f"cron expression {expression!r} can never fire (no date matches it)") from None
    return CronSchedule(expression, fields, zone)


def _field_problem(values: list[str]) -> str:
    """The first field croniter refuses, with the values it may hold."""
    for index, field in enumerate(FIELDS):
        alone = " ".join(values[index] if position == index else "*" for position in range(len(FIELDS)))
        if not croniter.is_valid(alone):
            value = values[index]
            bounds = [int(number) for item in value.split(",") for number in re.findall(r"[0-9]+", item.split("/")[0])]
            complaint = "out of range" if any(not field.low <= bound <= field.high for bound in bounds) else "malformed"
            return (
                f"the {field.name} field {value!r} is {complaint}; expected {field.low}-{field.high}{field.names} "
                f"as *, N, N-M, */S or N-M/S, or a comma-separated list of them"
            )
    return f"its fields do not go together; expected {EXPRESSION_HELP}"


def fire_times(schedule: CronSchedule, after: datetime, count: int) -> list[datetime]:
    """The next `count` fire times strictly after `after` (aware), as aware datetimes in the schedule's zone."""
    if after.tzinfo is None:
        raise ValueError("fire_times needs an aware datetime")
    # Instants are kept in UTC: aware datetimes sharing a tzinfo compare by wall clock and ignore `fold`,
    # so the two passes of a repeated hour would look equal.
    after_utc = after.astimezone(timezone.utc)
    pending: list[datetime] = []  # a heap: instants that a later wall-clock match could still precede
    seen: set[datetime] = set()
    found: list[datetime] = []
    # Start a little early: the repeated hour's second pass has wall-clock times before `after`'s.
    start = after.astimezone(schedule.zone).replace(tzinfo=None) - _SETTLE
    for wall_time, instants in _candidates(schedule, start):
        for instant in (local.astimezone(timezone.utc) for local in instants):
            if instant > after_utc and instant not in seen:
                seen.add(instant)
                heapq.heappush(pending, instant)
        settled = _as_utc_bound(wall_time, schedule.zone)
        while pending and pending[0] < settled:
            found.append(heapq.heappop(pending).astimezone(schedule.zone))
            if len(found) == count:
                return found
    return found  # pragma: no cover - croniter iterates without end


def _as_utc_bound(wall_time: datetime, zone: ZoneInfo) -> datetime:
    """Every instant from a wall-clock time at or after `wall_time` is later than this."""
    return wall_time.replace(tzinfo=zone, fold=0).astimezone(timezone.utc) - _SETTLE


def _candidates(schedule: CronSchedule, start: datetime) -> Iterator[tuple[datetime, list[datetime]]]:
    """Wall-clock matches from `start` (naive, calendar arithmetic only) and the instants each stands for."""
    matches = croniter(schedule.fields, start)
    while True:
        wall_time = matches.get_next(datetime)
        yield wall_time, _instants(wall_time, schedule.zone, schedule.follows_real_time)


def _instants(wall_time: datetime, zone: ZoneInfo, follows_real_time: bool) -> list[datetime]:
    first, second = wall_time.replace(tzinfo=zone, fold=0), wall_time.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return [first]
    exists = first.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) == wall_time
    if exists:  # the repeated hour: real-time jobs run at both passes, fixed-time jobs at the first only
        return [first, second] if follows_real_time else [first]
    return [] if follows_real_time else [_end_of_gap(first, second, zone)]


def _end_of_gap(first: datetime, second: datetime, zone: ZoneInfo) -> datetime:
    """The moment the clocks jumped forward over a wall-clock time that does not exist."""
    low, high = int(second.timestamp()), int(first.timestamp())  # the jump lies between the two readings
    offset_after = second.utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, zone)
