"""The `main.py hosts` arguments, apart from their (database-importing) implementation in fleet.commands."""

from __future__ import annotations

import argparse


def add_hosts_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="hosts_command", metavar="ACTION", required=True)
    actions.add_parser("list", help="every host with whether it has a key", description="Every host, by name.")
    for action, summary in (
        ("add", "register a host and print its ingest key, once"),
        ("rotate", "give a host a new key (the old one stops working) and print it, once"),
        ("revoke", "take a host's key away: its pushes are refused until it is rotated"),
    ):
        actions.add_parser(action, help=summary, description=summary[0].upper() + summary[1:] + ".").add_argument(
            "name", help="the host's name: the hostname its samples carry"
        )
