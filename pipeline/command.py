"""The monitor job's command: options -> run -> output. `scripts/monitoring/system_monitor.py` (the seed's
command), `main.py monitor` and the scheduler's pre-forked worker all run it.

Exit codes: 0 the run completed (alerts or not), 1 an unexpected error, 2 a configuration error.
With --nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (configuration or unexpected error).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from config.fields import ConfigError
from config.logging_setup import FILE_ONLY, configure_logging
from config.settings import ENV_FILE_VARIABLE, Settings, load_settings

if TYPE_CHECKING:
    from pipeline.monitor import MonitorResult

EXIT_OK, EXIT_ERROR, EXIT_CONFIG = 0, 1, 2
EXECUTION_ID_VARIABLE = "AUTOMATION_JOB_EXECUTION_ID"  # set by scheduler.executions for the runs it starts

log = logging.getLogger("automation.monitor")


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the sample and its alerts as JSON")
    output.add_argument(
        "--nagios",
        action="store_true",
        help="Nagios/Icinga plugin output: one status line with performance data; "
        "exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
    )
    parser.add_argument(
        "--no-save",
        action="store_true",
        help="write nothing; rates come from the last stored sample if the database exists, else from a 0.25 s window",
    )
    parser.add_argument("--quiet", action="store_true", help="print no report; log only warnings to stderr")
    parser.add_argument(
        "--env-file",
        metavar="PATH",
        help=f"read settings from this .env file (default: .env in the project root; "
        f"also settable as {ENV_FILE_VARIABLE})",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="system_monitor.py",
        description="Collect system metrics, save them, grade them against the .env thresholds and report.",
    )
    return add_arguments(parser)


def run_with_args(args: argparse.Namespace) -> int:
    """Run once with parsed options and return the exit code: a one-shot command, the process ends after it."""
    gc.disable()  # a short run builds long-lived objects (imports, tables); cycle collection would be wasted work
    try:
        if args.env_file:
            env_file = Path(args.env_file).resolve()  # relative to where the user typed it
            if not env_file.is_file():
                raise ConfigError("--env-file", args.env_file, "the path of an existing .env file")
            os.environ[ENV_FILE_VARIABLE] = str(env_file)
        settings = load_settings()
        configure_logging(settings, quiet=args.quiet or args.json or args.nagios)
    except ConfigError as error:
        return _fail(args, f"configuration error: {error}", EXIT_CONFIG)

    _tolerate_narrow_console()
    try:
        from pipeline.monitor import monitor_once

        result = monitor_once(settings, save=not args.no_save, job_execution_id=_scheduler_execution_id())
    except Exception as error:  # one line for the user; the traceback goes to the log file at DEBUG
        log.debug("monitoring run failed", exc_info=True)
        reason = one_line(error)
        log.error("System Monitoring Failed: %s", reason, extra=FILE_ONLY)
        return _fail(args, f"System Monitoring Failed: {reason}", EXIT_ERROR)
    return _print_result(args, settings, result)


def _scheduler_execution_id() -> int | None:
    """The job_executions row of the scheduler's run that started this process, if one did."""
    value = os.environ.get(EXECUTION_ID_VARIABLE, "")
    return int(value) if value.isdigit() else None


def one_line(error: BaseException) -> str:
    """The first line of an error (a database error's driver message, without SQLAlchemy's SQL dump)."""
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}".rstrip(": ")


def _fail(args: argparse.Namespace, message: str, exit_code: int) -> int:
    """Nagios mode reports UNKNOWN on stdout, as plugins must; otherwise one line on stderr."""
    if args.nagios:
        from pipeline.nagios import UNKNOWN, nagios_unknown

        print(nagios_unknown(message))
        return UNKNOWN
    print(message, file=sys.stderr)
    return exit_code


def _print_result(args: argparse.Namespace, settings: Settings, result: MonitorResult) -> int:
    """The output asked for; only its own module is imported (a --quiet run from cron imports none)."""
    if args.nagios:
        from pipeline import nagios

        print(
            nagios.nagios_line(
                result.measurements,
                result.alerts,
                settings.thresholds,
                result.sample.collectors,
                result.sample.hostname,
            )
        )
        return nagios.nagios_exit_code(result.alerts)
    if args.json:
        from pipeline.json_output import render_json

        print(render_json(result.sample, result.alerts, result.sample_id, result.incidents))
    elif not args.quiet:
        from pipeline.report import render_report

        print(render_report(result.sample, result.alerts, settings.thresholds, result.incidents, result.figures))
    return EXIT_OK


def _tolerate_narrow_console() -> None:
    """The report has emoji and arrows; a console that cannot show them (cp1252) gets '?' instead of a crash."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="replace")


def main(argv: list[str] | None = None) -> int:
    return run_with_args(build_parser().parse_args(argv))


def warm_up() -> None:
    """What a process that runs the command many times (the scheduler's pre-forked worker) does once: the
    argument parser built, the output modules imported, the monitor warmed up (pipeline.monitor.warm_up)."""
    from pipeline import json_output, monitor, nagios, report  # noqa: F401 - a run imports them lazily

    build_parser().parse_args([])
    monitor.warm_up(load_settings())
