#!/usr/bin/env python3
"""The automation platform's command line.

    python main.py [run]                                                the platform: the scheduler
    python main.py monitor [--json | --nagios] [--no-save] [--quiet]   run the system monitor job once
    python main.py db init                                              create or upgrade the database
    python main.py db upgrade                                           apply pending schema migrations
    python main.py cron next "30 1 * * *" --tz America/New_York -n 5    check a cron expression
    python main.py jobs list | jobs next NAME -n 5                      the jobs and their next runs

Exit codes: 0 done, 1 an unexpected error, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    from scripts.monitoring.system_monitor import add_arguments

    parser = argparse.ArgumentParser(prog="main.py", description="Self-hosted automation platform.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the scheduler: the jobs table's jobs on their cron expressions (the default)",
                        description="Run the enabled jobs on their cron expressions until SIGTERM or Ctrl-C.")
    add_arguments(commands.add_parser(
        "monitor", help="run the system monitor job once: collect, save, grade, notify, report",
        description="Collect system metrics, save them, grade them against the .env thresholds and report."))

    database = commands.add_parser("db", help="create or upgrade the database",
                                   description="Manage the database named by DATABASE_URL.")
    database_commands = database.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    database_commands.add_parser("init", help="create every table (idempotent; upgrades an older schema) and "
                                              "register the built-in system_monitoring job if absent")
    database_commands.add_parser("upgrade", help="apply pending schema migrations, keeping every row")

    from alerts.cli_arguments import add_alerts_arguments
    from scheduler.cli_arguments import add_cron_arguments, add_jobs_arguments

    add_cron_arguments(commands.add_parser("cron", help="check cron expressions",
                                           description="Check cron expressions."))
    add_jobs_arguments(commands.add_parser("jobs", help="the jobs in the database",
                                           description="The jobs the scheduler runs."))
    add_alerts_arguments(commands.add_parser("alerts", help="incidents: list, acknowledge, silence",
                                             description="Incidents raised by the monitor job, and silences."))
    return parser


def _settings(with_logging: bool = True):  # type: ignore[no-untyped-def]
    """The validated settings (and logging set up), or None once the configuration error is printed."""
    from config.fields import ConfigError
    from config.logging_setup import configure_logging
    from config.settings import load_settings

    try:
        settings = load_settings()
        if with_logging:
            configure_logging(settings)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return None
    return settings


def run_db(action: str) -> int:
    settings = _settings()
    if settings is None:
        return 2
    from sqlalchemy.engine import make_url

    from scripts.monitoring.system_monitor import one_line
    from storage import db, init_database, upgrade_database
    from storage.schema import current_revision

    shown_url = make_url(settings.database_url).render_as_string(hide_password=True)
    try:
        db.configure(settings.database_url, settings.database_busy_timeout_seconds)
        if action == "init":
            init_database()
            from scheduler.builtin_jobs import register_builtin_jobs

            with db.session_scope() as session:
                for name in register_builtin_jobs(session):
                    print(f"registered the built-in job {name}")
        else:
            upgrade_database()
        with db.engine.connect() as connection:
            revision = current_revision(connection)
    except Exception as error:  # one line for the user, whatever failed (driver, Alembic, file system)
        print(f"database error on {shown_url}: {one_line(error)}", file=sys.stderr)
        return 1
    print(f"database {shown_url} is at schema revision {revision}")
    return 0


def run_scheduler_command(args: argparse.Namespace) -> int:
    """`cron ...`, `jobs ...` and `alerts ...`: settings first (a bad one is exit 2), then the command."""
    from scheduler.cron_command import run_cron_next

    settings = _settings(with_logging=False)
    if settings is None:
        return 2
    if args.command == "cron":
        return run_cron_next(args, settings.scheduler_timezone)
    from scheduler.job_commands import run_jobs
    from storage import db, init_database

    db.configure(settings.database_url, settings.database_busy_timeout_seconds)
    init_database()
    if args.command == "alerts":
        from alerts.commands import run_alerts

        return run_alerts(args)
    return run_jobs(args, settings)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "monitor":
        from scripts.monitoring.system_monitor import run_with_args

        return run_with_args(args)
    if args.command == "db":
        return run_db(args.db_command)
    if args.command in ("cron", "jobs", "alerts"):
        return run_scheduler_command(args)
    return run_scheduler()


def run_scheduler() -> int:
    """`python main.py` and `python main.py run`: schedule until SIGTERM or SIGINT."""
    import signal

    settings = _settings()
    if settings is None:
        return 2
    from scheduler.service import Scheduler
    from storage import db, init_database

    db.configure(settings.database_url, settings.database_busy_timeout_seconds)
    init_database()
    from scheduler.job_commands import retry_policy

    scheduler = Scheduler(settings.scheduler_timezone, stop_wait_seconds=settings.scheduler_stop_wait_seconds,
                          retry=retry_policy(settings), prefork=settings.scheduler_prefork)
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: scheduler.stop.set())
    try:
        scheduler.run()
    except Exception as error:  # one line for the user; the traceback goes to the log file at DEBUG
        import logging

        from scripts.monitoring.system_monitor import one_line

        logging.getLogger("automation.scheduler").debug("scheduler failed", exc_info=True)
        print(f"Scheduler failed: {one_line(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
