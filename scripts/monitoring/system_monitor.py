#!/usr/bin/env python3
"""System monitor job: collect CPU, memory, disk, network, GPU and process figures, save them, grade them
against the .env thresholds, write notifications and print the report.

Runs from the scheduler, OS cron, Windows Task Scheduler or by hand, from any working directory:
    python scripts/monitoring/system_monitor.py [--json | --nagios] [--no-save] [--quiet]
Exit codes: 0 the run completed (alerts or not), 1 an unexpected error, 2 a configuration error.
With --nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (configuration or unexpected error).
The command itself is pipeline.command (`python main.py monitor` runs it too).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: import the project from its root, whatever the working directory
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from pipeline.command import build_parser, run_with_args


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    return run_with_args(options)  # run, then print the report, --json or --nagios output


if __name__ == "__main__":
    sys.exit(main())
