"""The `main.py alerts` arguments, apart from their (database-importing) implementation in alerts.commands."""

from __future__ import annotations

import argparse

MAX_LISTED = 1000  # as an API page holds


def add_alerts_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        help="active incidents (and, with --all, the last resolved ones)",
        description="Active incidents, newest first, with how long they have lasted.",
    )
    listing.add_argument("--all", action="store_true", help="include resolved incidents")
    listing.add_argument("-n", type=int, default=50, help=f"at most this many (1-{MAX_LISTED}, default 50)")
    ack = actions.add_parser(
        "ack",
        help="acknowledge an incident: no more reminders for it",
        description="Acknowledge an incident: it gets no reminders; changes still notify.",
    )
    ack.add_argument("id", type=int, help="the incident's id (`alerts list`)")
    ack.add_argument("--by", default=None, help="who acknowledged it (default: the current user)")
    silence = actions.add_parser(
        "silence",
        help="silence incidents matching a pattern until a time",
        description="Silence matching incidents: their notifications rows are written, marked silenced, and "
        "sent nowhere. PATTERN is a glob over metric, metric:resource or host:metric:resource, "
        "e.g. 'disk_*' (every disk metric), 'disk_*:/var*', 'web1:*'.",
    )
    silence.add_argument("pattern")
    silence.add_argument("--until", required=True, help="a duration from now (30m, 2h, 1d) or an ISO 8601 time")
    silence.add_argument("--reason", default=None)
    unsilence = actions.add_parser(
        "unsilence",
        help="end a silence early (by id or pattern)",
        description="End silences early, by id or by their exact pattern.",
    )
    unsilence.add_argument("silence", help="a silence id or pattern (`alerts list` shows active silences)")
