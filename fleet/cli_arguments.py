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
    maintenance = actions.add_parser(
        "maintenance",
        help="put a host in maintenance (no silent-host alerts) or take it out",
        description="Put a host in maintenance: it raises no silent-host alerts, and an active one is closed "
        "quietly. `off` watches it again.",
    )
    maintenance.add_argument("name", help="the host's name")
    maintenance.add_argument("state", choices=("on", "off"), help="on or off")
    remove = actions.add_parser(
        "remove",
        help="remove a host: its key stops working; its samples, notifications and incidents stay unless --purge",
        description="Remove a host: its key stops working and its active incidents are closed quietly. Its "
        "samples, notifications and incidents stay, unless --purge deletes them too (in small batches). Asks "
        "nothing; prints what was kept or deleted.",
    )
    remove.add_argument("name", help="the host's name")
    remove.add_argument("--purge", action="store_true", help="also delete its samples, notifications and incidents")
