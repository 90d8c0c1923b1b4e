"""`main.py alerts list|ack|silence|unsilence`: incidents and silences from the command line.

`--until` takes a duration from now (30m, 2h, 1d) or an ISO 8601 time (a naive one is UTC). Every bad input is
one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from config.alert_settings import parse_duration
from config.fields import ConfigError
from scripts.monitoring.alert_text import format_duration
from storage import db, tables


class AlertCommandError(ValueError):
    """A bad argument; str() is the one line for the user."""


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
    except ValueError:
        raise AlertCommandError(f"--until={raw!r} is invalid; expected a duration such as 30m, 2h or 1d, or an "
                                f"ISO 8601 time such as 2026-12-01T08:00:00+01:00") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if moment <= now:
        raise AlertCommandError(f"--until={raw!r} is in the past; expected a later time")
    return moment.astimezone(timezone.utc)


def _list(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise AlertCommandError(f"-n={args.n} is invalid; expected a whole number of at least 1")
    incidents, now = tables.alert_incidents, datetime.now(timezone.utc)
    query = select(incidents).order_by(incidents.c.id.desc()).limit(args.n)
    if not args.all:
        query = query.where(incidents.c.status != "ok")
    silences = tables.alert_silences
    with db.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
        active_silences = connection.execute(select(silences).where(
            silences.c.until > now, silences.c.removed_at.is_(None)).order_by(silences.c.id)).mappings().all()
    print(f"{'ID':>5}  {'STATUS':<9} {'HOST':<16} {'METRIC':<24} {'RESOURCE':<20} {'VALUE':>8} {'PEAK':>8}  SINCE")
    for row in rows:
        start = row["fired_at"] or row["started_at"]
        end = row["resolved_at"] or now
        notes = (" acked" if row["acknowledged_at"] else "") + (" flapping" if row["flapping"] else "")
        print(f"{row['id']:>5}  {row['status']:<9} {row['host'][:16]:<16} {row['metric']:<24} "
              f"{(row['resource'] or '-')[:20]:<20} {row['last_value']:>8.2f} {row['max_value']:>8.2f}  "
              f"{start:%Y-%m-%d %H:%M} UTC ({format_duration((end - start).total_seconds())}){notes}")
    if not rows:
        print("no active incidents" if not args.all else "no incidents")
    for silence in active_silences:
        print(f"silence {silence['id']}: {silence['pattern']} until {silence['until']:%Y-%m-%d %H:%M} UTC"
              + (f" ({silence['reason']})" if silence["reason"] else ""))
    return 0


def _ack(args: argparse.Namespace) -> int:
    import getpass

    incidents = tables.alert_incidents
    with db.engine.begin() as connection:
        status = connection.scalar(select(incidents.c.status).where(incidents.c.id == args.id))
        if status is None:
            raise AlertCommandError(f"no incident with id {args.id}; `python main.py alerts list` shows them")
        if status == "ok":
            raise AlertCommandError(f"incident {args.id} is already resolved")
        connection.execute(update(incidents).where(incidents.c.id == args.id).values(
            acknowledged_at=datetime.now(timezone.utc), acknowledged_by=(args.by or getpass.getuser())[:255]))
    print(f"incident {args.id} acknowledged: no more reminders for it")
    return 0


def _silence(args: argparse.Namespace) -> int:
    pattern = args.pattern.strip()
    if not pattern or len(pattern) > 512:
        raise AlertCommandError(f"PATTERN={args.pattern!r} is invalid; expected a glob of 1 to 512 characters "
                                f"such as disk_percent or 'web1:*'")
    now = datetime.now(timezone.utc)
    until = parse_until(args.until, now)
    with db.engine.begin() as connection:
        silence_id = connection.execute(tables.alert_silences.insert().values(
            pattern=pattern, until=until, created_at=now, reason=args.reason)).inserted_primary_key[0]
    print(f"silence {silence_id}: {pattern} until {until:%Y-%m-%d %H:%M} UTC")
    return 0


def _unsilence(args: argparse.Namespace) -> int:
    silences, now = tables.alert_silences, datetime.now(timezone.utc)
    target = (silences.c.id == int(args.silence)) if args.silence.isdigit() else (silences.c.pattern == args.silence)
    with db.engine.begin() as connection:
        ended = connection.execute(update(silences).where(target, silences.c.removed_at.is_(None),
                                                          silences.c.until > now).values(removed_at=now)).rowcount
    if not ended:
        raise AlertCommandError(f"no active silence {args.silence!r}; `python main.py alerts list` shows them")
    print(f"{ended} silence(s) ended")
    return 0
