"""`main.py hosts list|add|rotate|revoke|maintenance|remove`: the hosts allowed to push samples to this hub, their
keys, maintenance (no silent-host alerts) and removal (the history kept, or purged with --purge).

A key is printed once, on stdout alone (so `KEY=$(main.py hosts add web1)` captures it), and never stored or
logged: the database holds its sha256. Bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from config.fleet_settings import FleetSettings
from fleet.enrolment import (
    EnrolmentRefused,
    HostNameTaken,
    InvalidHostName,
    UnknownHost,
    add_host,
    checked_name,
    revoke_key,
    rotate_key,
)
from fleet.host_admin import remove_host, set_maintenance
from fleet.host_status import describe_host
from monitoring.alert_text import format_duration
from storage import db
from storage.fleet_queries import fleet_hosts
from storage.host_store import list_hosts
from storage.types import utc_now


def run_hosts(args: argparse.Namespace, fleet: FleetSettings) -> int:
    if args.hosts_command == "list":
        return _list(fleet)
    try:
        return {
            "add": _add,
            "rotate": _rotate,
            "revoke": _revoke,
            "maintenance": _maintenance,
            "remove": _remove,
        }[args.hosts_command](args)
    except EnrolmentRefused as refused:
        print(f"error: {_refusal(refused)}", file=sys.stderr)
        return 2


def _refusal(refused: EnrolmentRefused) -> str:
    """The one line for a refusal, naming the NAME argument."""
    name = refused.name
    if isinstance(refused, InvalidHostName):
        return f"NAME={name!r} is invalid; expected {refused.allowed}"
    if isinstance(refused, HostNameTaken):
        return f"NAME={name!r} is taken; `main.py hosts rotate {name}` gives it a new key"
    assert isinstance(refused, UnknownHost)
    return f"NAME={name!r} is not a host; `main.py hosts list` shows them"


def _list(fleet: FleetSettings) -> int:
    """Every host with its status as the fleet view shows it, then its key's state; a host that only has samples
    (a monitor writing to this database) is listed too."""
    with db.engine.connect() as connection:
        hosts = fleet_hosts(connection)
        keys = {host["name"]: host for host in list_hosts(connection)}
    if not hosts:
        print("no hosts: add one with `main.py hosts add NAME`")
    now = utc_now()
    for host in hosts:
        shown = describe_host(fleet, now, host)
        words = [*_status_words(shown, now), _key_words(keys.get(shown["name"]))]
        print(f"{shown['name']}: {'; '.join(words)}")
    return 0


def _status_words(host: dict[str, Any], now: datetime) -> list[str]:
    words = [str(host["status"])]
    if host["last_seen_at"] is not None:
        words[0] += f", last heard {format_duration((now - host['last_seen_at']).total_seconds())} ago"
    if host["worst_level"]:
        words.append(f"{host['active_incidents']} active incident(s), worst {host['worst_level']}")
    if host["agent_version"]:
        skew = host["clock_skew_seconds"]
        words.append(f"agent {host['agent_version']}" + (f", clock skew {skew:+.1f} s" if skew is not None else ""))
    return words


def _key_words(key: dict[str, Any] | None) -> str:
    if key is None:
        return "no key: its samples come from a monitor writing to this database"
    state = f"key since {key['key_created_at']:%Y-%m-%d %H:%M} UTC" if key["has_key"] else "key revoked"
    return f"{state}, {'bound to a machine' if key['fingerprint'] else 'not used yet'}"


def _add(args: argparse.Namespace) -> int:
    key = add_host(args.name)
    print(key)
    print(f"host {args.name} added; its key is shown this once", file=sys.stderr)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    key = rotate_key(args.name)
    print(key)
    print(f"host {args.name}: new key, shown this once; the old one no longer works", file=sys.stderr)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    revoke_key(args.name)
    print(f"host {args.name}: key revoked", file=sys.stderr)
    return 0


def _maintenance(args: argparse.Namespace) -> int:
    name, on = checked_name(args.name), args.state == "on"
    closed = set_maintenance(db.engine, name, on)
    if closed is None:
        raise UnknownHost(name)
    if not on:
        print(f"host {name}: maintenance off; it is watched for silence again")
        return 0
    quietly = "; its silent-host incident was closed quietly" if closed else ""
    print(f"host {name}: in maintenance, no silent-host alerts{quietly}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    name = checked_name(args.name)
    data = remove_host(db.engine, name, args.purge)
    if data is None:
        raise UnknownHost(name)
    counts = (
        f"{data.samples} sample(s) with their details, {data.notifications} notification(s), "
        f"{data.incidents} incident(s)"
    )
    if args.purge:
        print(f"host {name} removed; its key no longer works; deleted {counts}")
    else:
        print(f"host {name} removed; its key no longer works; kept {counts} (`--purge` deletes them)")
    return 0
