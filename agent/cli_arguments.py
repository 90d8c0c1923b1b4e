"""The `main.py agent` arguments, apart from their implementation in agent.commands."""

from __future__ import annotations

import argparse

HELP = "the fleet agent: collect this host's samples and push them to a hub"
DESCRIPTION = (
    "Collect this host's samples every AGENT_INTERVAL and push them to AGENT_HUB_URL, through an on-disk outbox "
    "that keeps them while the hub is unreachable."
)


def agent_parser() -> argparse.ArgumentParser:
    """`main.py agent ...` parsed on its own: main.py hands these arguments over before it imports anything of
    the hub's (an agent host lacks its packages)."""
    parser = argparse.ArgumentParser(prog="main.py agent", description=DESCRIPTION)
    add_agent_arguments(parser)
    return parser


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="agent_command", metavar="ACTION", required=True)
    for action, summary in (
        ("run", "collect and push in the foreground until SIGTERM or Ctrl-C (for systemd and Task Scheduler)"),
        ("start", "run the agent in the background, its output in AGENT_LOG_FILE (logs/agent.log)"),
        ("stop", "stop the background agent (SIGTERM) and wait for it to exit"),
        ("status", "whether the agent runs, its last push and its backlog (exit 0 running, 3 not running)"),
    ):
        actions.add_parser(action, help=summary, description=summary[0].upper() + summary[1:] + ".")
