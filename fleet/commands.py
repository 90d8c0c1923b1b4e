"""`main.py hosts list|add|rotate|revoke|maintenance|remove`: the hosts allowed to push samples to this hub, their
keys, maintenance (no silent-host alerts) and removal (the history kept, or purged with --purge).

A key is printed once, on stdout alone (so `KEY=$(main.py hosts add web1)` captures it), and never stored or
logged: the database holds its sha256. Bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys

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
from storage import db
from storage.host_store import list_hosts


def run_hosts(args: argparse.Namespace) -> int:
    try:
        return {
            "list": _list,
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


def _list(_: argparse.Namespace) -> int:
    with db.engine.connect() as connection:
        hosts = list_hosts(connection)
    if not hosts:
        print("no hosts: add one with `main.py hosts add NAME`")
    for host in hosts:
        key = f"key since {host['key_created_at']:%Y-%m-%d %H:%M} UTC" if host["has_key"] else "key revoked"
        bound = "bound to a machine" if host["fingerprint"] else "not used yet"
        print(f"{host['name']}: {key}, {bound}")
    return 0


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
