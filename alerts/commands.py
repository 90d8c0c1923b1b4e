"""`main.py alerts list|ack|silence|unsilence`: incidents and silences from the command line.

`--until` takes a duration from now (30m, 2h, 1d) or an ISO 8601 time (a naive one is UTC). Every bad input is
one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from typing import ClassVar

from alerts.cli_arguments import MAX_LISTED
from config.alert_settings import parse_duration
from config.field_errors import FieldError
from config.fields import ConfigError
from config.user_text import ACKNOWLEDGED_BY, SILENCE_PATTERN, SILENCE_REASON
from monitoring.alert_text import format_duration
from storage import db
from storage.incident_actions import (
    acknowledge,
    active_silences,
    add_silence,
    end_silences,
    incident,
    list_incidents,
)
from storage.types import MAX_ID


class AlertCommandError(ValueError):
    """A bad argument; str() is the one line for the user."""


class AlertArgumentError(FieldError, AlertCommandError):
    """A bad PATTERN or --until (`pattern`, `until` in the API)."""

    CLI_NAMES: ClassVar[dict[str, str]] = {"until": "--until", "pattern": "PATTERN", "reason": "--reason", "by": "--by"}


def run_alerts(args: argparse.Namespace) -> int:
    try:
        return {"list": _list, "ack": _ack, "silence": _silence, "unsilence": _unsilence}[args.alerts_command](args)
    except AlertCommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def parse_until(raw: str, now: datetime) -> datetime:
    try:
        return now + timedelta(seconds=parse_duration("--until", raw, maximum_seconds=3650 * 86400))
    except ConfigError:
        pass
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: an offset that takes it past year 9999 or before 1
        raise AlertArgumentError(
            "until",
            raw,
            "is invalid; expected a duration such as 30m, 2h or 1d, or an ISO "
            "8601 time such as 2026-12-01T08:00:00+01:00",
        ) from None
    if moment <= now:
        raise AlertArgumentError("until", raw, "is in the past; expected a later time")
    return moment


class IncidentNotFound(AlertCommandError):
    """No incident has the given id."""


class IncidentResolved(AlertCommandError):
    """The incident is over: there is nothing to acknowledge."""


def acknowledge_incident(incident_id: int, by: str) -> None:
    """Mark an active incident acknowledged (no more reminders for it)."""
    if not ACKNOWLEDGED_BY.admits(by):
        raise AlertArgumentError("by", by, f"is invalid; expected {ACKNOWLEDGED_BY.allowed}")
    with db.engine.begin() as connection:
        found = incident(connection, incident_id) if 1 <= incident_id <= MAX_ID else None  # else no column holds it
        if found is None:
            raise IncidentNotFound(f"no incident with id {incident_id}; `python main.py alerts list` shows them")
        if found["status"] == "ok":
            raise IncidentResolved(f"incident {incident_id} is already resolved")
        acknowledge(connection, incident_id, by, datetime.now(timezone.utc))


def silence_incidents(pattern: str, until: str, reason: str | None) -> tuple[int, str, datetime]:
    """A new silence: its id, its pattern and when it ends. PATTERN and --until are checked first."""
    pattern = pattern.strip()
    if not SILENCE_PATTERN.admits(pattern):
        raise AlertArgumentError(
            "pattern", pattern, f"is invalid; expected {SILENCE_PATTERN.allowed} such as 'disk_*' or 'web1:*'"
        )
    if reason is not None and not SILENCE_REASON.admits(reason):
        raise AlertArgumentError("reason", reason, f"is invalid; expected {SILENCE_REASON.allowed}")
    now = datetime.now(timezone.utc)
    ends = parse_until(until, now)
    with db.engine.begin() as connection:
        return add_silence(connection, pattern, ends, reason, now), pattern, ends


def unsilence_incidents(target: str) -> int:
    """End the active silences with id or pattern `target`; how many ended (at least one)."""
    ended = 0
    if SILENCE_PATTERN.admits(target):  # no silence has another (nor could the database be asked for one)
        with db.engine.begin() as connection:
            ended = end_silences(connection, target, datetime.now(timezone.utc))
    if not ended:
        raise AlertCommandError(f"no active silence {target!r}; `python main.py alerts list` shows them")
    return ended


def _list(args: argparse.Namespace) -> int:
    if not 1 <= args.n <= MAX_LISTED:
        raise AlertCommandError(f"-n={args.n} is invalid; expected a whole number from 1 to {MAX_LISTED}")
    now = datetime.now(timezone.utc)
    with db.engine.connect() as connection:
        rows = list_incidents(connection, None if args.all else True, args.n)
        silences = active_silences(connection, now)
    print(f"{'ID':>5}  {'STATUS':<9} {'HOST':<16} {'METRIC':<24} {'RESOURCE':<20} {'VALUE':>8} {'PEAK':>8}  SINCE")
    for row in rows:
        start = row["fired_at"] or row["started_at"]
        end = row["resolved_at"] or now
        notes = (" acked" if row["acknowledged_at"] else "") + (" flapping" if row["flapping"] else "")
        print(
            f"{row['id']:>5}  {row['status']:<9} {row['host'][:16]:<16} {row['metric']:<24} "
            f"{(row['resource'] or '-')[:20]:<20} {row['last_value']:>8.2f} {row['max_value']:>8.2f}  "
            f"{start:%Y-%m-%d %H:%M} UTC ({format_duration((end - start).total_seconds())}){notes}"
        )
    if not rows:
        print("no active incidents" if not args.all else "no incidents")
    for silence in silences:
        print(
            f"silence {silence['id']}: {silence['pattern']} until {silence['until']:%Y-%m-%d %H:%M} UTC"
            + (f" ({silence['reason']})" if silence["reason"] else "")
        )
    return 0


def _ack(args: argparse.Namespace) -> int:
    import getpass

    acknowledge_incident(args.id, args.by or getpass.getuser())
    print(f"incident {args.id} acknowledged: no more reminders for it")
    return 0


def _silence(args: argparse.Namespace) -> int:
    silence_id, pattern, until = silence_incidents(args.pattern, args.until, args.reason)
    print(f"silence {silence_id}: {pattern} until {until:%Y-%m-%d %H:%M} UTC")
    return 0


def _unsilence(args: argparse.Namespace) -> int:
    print(f"{unsilence_incidents(args.silence)} silence(s) ended")
    return 0
