"""The `main.py agent` arguments, apart from their implementation in agent.commands."""

from __future__ import annotations

import argparse


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="agent_command", metavar="ACTION", required=True)
    for action, summary in (
        ("run", "collect and push in the foreground until SIGTERM or Ctrl-C (for systemd and Task Scheduler)"),
        ("start", "run the agent in the background, its output in AGENT_LOG_FILE (logs/agent.log)"),
        ("stop", "stop the background agent (SIGTERM) and wait for it to exit"),
        ("status", "whether the agent runs, its last push and its backlog (exit 0 running, 3 not running)"),
    ):
        actions.add_parser(action, help=summary, description=summary[0].upper() + summary[1:] + ".")
