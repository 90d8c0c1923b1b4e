"""The exporter's command-line arguments, kept apart from the server so that building main.py's parser imports
nothing heavy."""

from __future__ import annotations

import argparse

DEFAULT_EXPORTER_HOST = "127.0.0.1"
DEFAULT_EXPORTER_PORT = 9100  # the port the seed's exporter listened on


def port_number(text: str) -> int:
    """A TCP port to listen on, 1-65535."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid; expected a port number from 1 to 65535")
    return port


def add_exporter_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_EXPORTER_PORT,
        help=f"the port to listen on (default {DEFAULT_EXPORTER_PORT})",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_EXPORTER_HOST,
        help=f"the address to listen on (default {DEFAULT_EXPORTER_HOST}: this machine only); another machine's "
        "Prometheus needs 0.0.0.0 or this machine's address, and API_READ_AUTH=true or --public",
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="allow a --host reachable from other machines without a token: anyone who reaches the port "
        "reads /metrics (as with node_exporter)",
    )
