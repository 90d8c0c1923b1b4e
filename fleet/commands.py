"""`main.py hosts list|add|rotate|revoke|maintenance|remove`: the hosts allowed to push samples to this hub, their
keys, maintenance (no silent-host alerts) and removal (the history kept, or purged with --purge).

A key is printed once, on stdout alone (so `KEY=$(main.py hosts add web1)` captures it), and never stored or
logged: the database holds its sha256. Bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import IntegrityError

from config.user_text import HOST_NAME
from fleet.host_admin import remove_host, set_maintenance
from fleet.host_keys import key_hash, new_key
from storage import db
from storage.database import write_transaction
from storage.host_store import insert_host, list_hosts, replace_key


class HostCommandError(ValueError):
    """A bad argument; str() is the one line for the user."""


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
    except HostCommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _checked_name(raw: str) -> str:
    if not HOST_NAME.admits(raw):
        raise HostCommandError(f"NAME={raw!r} is invalid; expected {HOST_NAME.allowed}")
    return raw


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
    name, key = _checked_name(args.name), new_key()
    try:
        with write_transaction(db.engine) as connection:
            insert_host(connection, name, key_hash(key))
    except IntegrityError:
        raise HostCommandError(f"NAME={name!r} is taken; `main.py hosts rotate {name}` gives it a new key") from None
    print(key)
    print(f"host {name} added; its key is shown this once", file=sys.stderr)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    name, key = _checked_name(args.name), new_key()
    _replace(name, key_hash(key))
    print(key)
    print(f"host {name}: new key, shown this once; the old one no longer works", file=sys.stderr)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    name = _checked_name(args.name)
    _replace(name, None)
    print(f"host {name}: key revoked", file=sys.stderr)
    return 0


def _replace(name: str, new_hash: str | None) -> None:
    with write_transaction(db.engine) as connection:
        if not replace_key(connection, name, new_hash):
            raise _unknown(name)


def _maintenance(args: argparse.Namespace) -> int:
    name, on = _checked_name(args.name), args.state == "on"
    closed = set_maintenance(db.engine, name, on)
    if closed is None:
        raise _unknown(name)
    if not on:
        print(f"host {name}: maintenance off; it is watched for silence again")
        return 0
    quietly = "; its silent-host incident was closed quietly" if closed else ""
    print(f"host {name}: in maintenance, no silent-host alerts{quietly}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    name = _checked_name(args.name)
    data = remove_host(db.engine, name, args.purge)
    if data is None:
        raise _unknown(name)
    counts = (
        f"{data.samples} sample(s) with their details, {data.notifications} notification(s), "
        f"{data.incidents} incident(s)"
    )
    if args.purge:
        print(f"host {name} removed; its key no longer works; deleted {counts}")
    else:
        print(f"host {name} removed; its key no longer works; kept {counts} (`--purge` deletes them)")
    return 0


def _unknown(name: str) -> HostCommandError:
    return HostCommandError(f"NAME={name!r} is not a host; `main.py hosts list` shows them")
