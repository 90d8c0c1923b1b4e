#!/usr/bin/env python3
"""The automation platform's command line.

    python main.py [run] [--no-dashboard]                               the platform: the scheduler and the dashboard
    python main.py serve                                                the dashboard alone (API_HOST:API_PORT)
    python main.py exporter [--port 9100] [--host 127.0.0.1]            /metrics alone, for Prometheus
    python main.py monitor [--json | --nagios] [--no-save] [--quiet]   run the system monitor job once
    python main.py db init                                              create or upgrade the database
    python main.py db upgrade                                           apply pending schema migrations
    python main.py db prune [--dry-run]                                 delete history older than RETENTION_*
    python main.py cron next "30 1 * * *" --tz America/New_York -n 5    check a cron expression
    python main.py prometheus rules                                     alert rules at the .env levels
    python main.py jobs list | jobs next NAME -n 5                      the jobs and their next runs
    python main.py agent run | start | stop | status                    the fleet agent: push samples to a hub

Exit codes: 0 done, 1 an unexpected error, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.settings import Settings
from collections.abc import Callable


def build_parser() -> argparse.ArgumentParser:
    from pipeline.command import add_arguments

    parser = argparse.ArgumentParser(prog="main.py", description="Self-hosted automation platform.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run the scheduler (the jobs table's jobs on their cron expressions) and the dashboard: the default",
        description="Run the enabled jobs on their cron expressions and serve the dashboard "
        "(unless DASHBOARD_ENABLED=false) until SIGTERM or Ctrl-C.",
    )
    run.add_argument("--no-dashboard", action="store_true", help="run the scheduler alone")
    commands.add_parser(
        "serve",
        help="serve the dashboard alone: JSON API, /metrics, the web page",
        description="Serve the dashboard on API_HOST:API_PORT until SIGTERM or Ctrl-C.",
    )
    from dashboard.cli_arguments import add_exporter_arguments

    add_exporter_arguments(
        commands.add_parser(
            "exporter",
            help="serve /metrics alone (this host live, the others' stored samples), for Prometheus",
            description="Serve GET /metrics alone until SIGTERM or Ctrl-C: this host's live figures, the newest "
            "stored sample of every other host and the platform's figures (from DATABASE_URL, read only).",
        )
    )
    add_arguments(
        commands.add_parser(
            "monitor",
            help="run the system monitor job once: collect, save, grade, notify, report",
            description="Collect system metrics, save them, grade them against the .env thresholds and report.",
        )
    )

    database = commands.add_parser(
        "db", help="create or upgrade the database", description="Manage the database named by DATABASE_URL."
    )
    database_commands = database.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    database_commands.add_parser(
        "init",
        help="create every table (idempotent; upgrades an older schema) and "
        "register the built-in system_monitoring job if absent",
    )
    database_commands.add_parser("upgrade", help="apply pending schema migrations, keeping every row")
    prune = database_commands.add_parser(
        "prune",
        help="delete history older than the RETENTION_* settings (the data_retention job runs this daily)",
        description="Delete samples, notifications, resolved incidents, ended silences and finished job runs "
        "older than RETENTION_METRICS_DAYS, RETENTION_NOTIFICATIONS_DAYS and "
        "RETENTION_JOB_EXECUTIONS_DAYS, in small batches.",
    )
    prune.add_argument("--dry-run", action="store_true", help="only count what would be deleted")

    prometheus = commands.add_parser(
        "prometheus",
        help="files for a Prometheus that scrapes /metrics",
        description="Files for a Prometheus server that scrapes the dashboard.",
    )
    prometheus_commands = prometheus.add_subparsers(dest="prometheus_command", metavar="ACTION", required=True)
    prometheus_commands.add_parser(
        "rules",
        help="print alert rules for the graded metrics at the .env levels (deploy/prometheus/rules.yml "
        "is this for .env.example)",
    )

    from agent.cli_arguments import DESCRIPTION as AGENT_DESCRIPTION
    from agent.cli_arguments import HELP as AGENT_HELP
    from agent.cli_arguments import add_agent_arguments
    from alerts.cli_arguments import add_alerts_arguments
    from fleet.cli_arguments import add_hosts_arguments
    from scheduler.cli_arguments import add_cron_arguments, add_jobs_arguments

    add_cron_arguments(
        commands.add_parser("cron", help="check cron expressions", description="Check cron expressions.")
    )
    add_jobs_arguments(
        commands.add_parser("jobs", help="the jobs in the database", description="The jobs the scheduler runs.")
    )
    add_alerts_arguments(
        commands.add_parser(
            "alerts",
            help="incidents: list, acknowledge, silence",
            description="Incidents raised by the monitor job, and silences.",
        )
    )
    add_hosts_arguments(
        commands.add_parser(
            "hosts",
            help="the fleet's hosts and their ingest keys",
            description="The hosts allowed to push samples to this hub, and their keys.",
        )
    )
    add_agent_arguments(commands.add_parser("agent", help=AGENT_HELP, description=AGENT_DESCRIPTION))
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


def run_db(action: str, dry_run: bool = False) -> int:
    settings = _settings()
    if settings is None:
        return 2
    from storage import db, init_database, upgrade_database
    from storage.schema import current_revision, require_writable

    try:
        db.configure(settings.database_url, settings.database_busy_timeout_seconds)
        if action == "prune":
            init_database()
            if not dry_run:
                require_writable()
            return _prune(settings, dry_run)
        if action == "init":
            init_database()
            from scheduler.builtin_jobs import register_builtin_jobs
            from storage.database import write_transaction

            with write_transaction(db.engine) as connection:
                for name in register_builtin_jobs(connection):
                    print(f"registered the built-in job {name}")
        else:
            upgrade_database()
        require_writable()  # a database already at the schema, with nothing to add, is not written otherwise
        with db.engine.connect() as connection:
            revision = current_revision(connection)
    except Exception as error:  # noqa: BLE001 - one line for the user, whatever failed (driver, Alembic, file system)
        print(database_error_line(error), file=sys.stderr)
        return 1
    print(f"database {db.shown_url} is at schema revision {revision}")
    return 0


def _prune(settings: Settings, dry_run: bool) -> int:
    """Print one line per table: what was (or would be) deleted, or that it is kept forever."""
    from datetime import datetime, timezone

    from storage import db
    from storage.retention import prune

    bars = _PruneBars() if sys.stderr.isatty() and not dry_run else None
    try:
        results = prune(db.engine, settings.retention, datetime.now(timezone.utc), dry_run=dry_run, progress=bars)
    finally:
        if bars is not None:
            bars.close()
    for result in results:
        if result.older_than is None:
            print(f"{result.table}: kept forever ({result.setting}=off)")
        else:
            verb = "would be deleted" if dry_run else "deleted"
            print(
                f"{result.table}: {result.rows} row(s) older than "
                f"{result.older_than.isoformat(timespec='seconds')} {verb} ({result.setting})"
            )
    return 0


class _PruneBars:
    """A progress bar on a terminal's stderr (tqdm) for the table being pruned, gone once it is done: `db prune`
    on a year of samples takes minutes. Never made when stderr is a pipe or a file (cron, the data_retention job)."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._table: str | None = None
        self._bar: tqdm | None = None

    def __call__(self, table: str, total_rows: int, deleted_rows: int) -> None:
        if self._bar is None or table != self._table:
            self.close()
            self._table = table
            self._bar = self._tqdm(total=total_rows, desc=table, unit=" rows", leave=False)
        self._bar.update(deleted_rows - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def run_scheduler_command(args: argparse.Namespace) -> int:
    """`cron ...`, `jobs ...`, `alerts ...` and `hosts ...`: settings first (a bad one is exit 2), then the
    command."""
    from scheduler.cron_command import run_cron_next

    settings = _settings(with_logging=False)
    if settings is None:
        return 2
    if args.command == "cron":
        return run_cron_next(args, settings.scheduler_timezone)
    from scheduler.job_commands import run_jobs

    _database_ready(settings)
    if args.command == "alerts":
        from alerts.commands import run_alerts

        return run_alerts(args)
    if args.command == "hosts":
        from fleet.commands import run_hosts

        return run_hosts(args, settings.fleet)
    return run_jobs(args, settings)


def main(argv: list[str] | None = None) -> int:
    """A database that cannot be used (unreachable, unwritable, missing, deleted while in use) is one line and
    exit code 1 for every command, wherever it is found."""
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["agent"]:  # before the full parser, whose modules an agent host may lack
        from agent.commands import run_agent_command

        return run_agent_command(arguments[1:])
    args = build_parser().parse_args(arguments)
    try:
        return _dispatch(args)
    except Exception as error:
        from storage.database import database_failure

        if database_failure(error) is None:
            raise
        print(database_error_line(error), file=sys.stderr)
        return 1


def database_error_line(error: BaseException) -> str:
    """`error: database URL (without password): the reason`."""
    from pipeline.command import one_line
    from storage import db
    from storage.database import database_failure

    return f"error: database {db.shown_url}: {database_failure(error) or one_line(error)}"


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "monitor":
        from pipeline.command import run_with_args

        return run_with_args(args)
    if args.command == "db":
        return run_db(args.db_command, dry_run=getattr(args, "dry_run", False))
    if args.command in ("cron", "jobs", "alerts", "hosts"):
        return run_scheduler_command(args)
    if args.command == "prometheus":
        return print_prometheus_rules()
    if args.command == "serve":
        return run_dashboard()
    if args.command == "exporter":
        return run_exporter(args)
    return run_scheduler(with_dashboard=not getattr(args, "no_dashboard", False))


def print_prometheus_rules() -> int:
    """`python main.py prometheus rules`: the alert rules for the levels of the settings in force."""
    settings = _settings(with_logging=False)
    if settings is None:
        return 2
    from dashboard.prometheus_rules import rules_yaml

    print(rules_yaml(settings.thresholds), end="")
    return 0


def _on_stop_signals(stop: Callable[[], None]) -> None:
    """SIGTERM and SIGINT (Ctrl-C) call `stop`: the one shutdown path of `run` and `serve`. `stop` runs in a signal
    handler, between any two bytecodes of the main thread: it may only set flags, never take a lock."""
    import signal

    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop())


def _database_ready(settings) -> None:  # type: ignore[no-untyped-def]
    """Bound, at the current schema, and taking writes: a database that is not fails here, in one line."""
    from storage import db, init_database
    from storage.schema import require_writable

    db.configure(settings.database_url, settings.database_busy_timeout_seconds)
    init_database()
    require_writable()


def _first_start_jobs() -> None:
    """A database that never had a job gets the built-in ones (what `db init` registers) and a first monitor run
    right away, so a fresh install's page has figures before the first */5 slot."""
    import logging

    from scheduler.builtin_jobs import SYSTEM_MONITORING, register_on_first_start
    from scheduler.executions import queue_manual_run
    from storage import db
    from storage.database import write_transaction
    from storage.job_queries import job_id_named

    with write_transaction(db.engine) as connection:
        added = register_on_first_start(connection)
        monitor_id = job_id_named(connection, str(SYSTEM_MONITORING["name"])) if added else None
    for name in added:
        logging.getLogger("automation.scheduler").info("First start: registered the built-in job %s", name)
    if monitor_id is not None:
        queue_manual_run(monitor_id)


def _exposure_allowed(settings, with_dashboard: bool) -> bool:  # type: ignore[no-untyped-def]
    """Checked before anything is touched: a dashboard reachable from other machines needs API_TOKEN."""
    if not with_dashboard:
        return True
    from dashboard.server import DashboardError, check_exposure

    try:
        check_exposure(settings.dashboard)
    except DashboardError as error:
        print(f"dashboard error: {error}", file=sys.stderr)
        return False
    return True


def run_dashboard() -> int:
    """`python main.py serve`: the dashboard alone until SIGTERM or SIGINT."""
    import threading

    settings = _settings()
    if settings is None or not _exposure_allowed(settings, True):
        return 2
    _database_ready(settings)
    from dashboard.server import DashboardError, DashboardServer

    try:
        server = DashboardServer(settings)
        server.start()
    except DashboardError as error:
        print(f"dashboard error: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    _on_stop_signals(stop.set)
    while server.running and not stop.wait(0.5):
        pass
    server.stop()
    server.join()
    return 0


def run_exporter(args: argparse.Namespace) -> int:
    """`python main.py exporter`: /metrics alone until SIGTERM or SIGINT."""
    import threading

    settings = _settings()
    if settings is None:
        return 2
    from dashboard.exporter import Exporter, ExporterError

    try:
        exporter = Exporter(settings, args.host, args.port, public=args.public)
    except ExporterError as error:
        print(f"exporter error: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    _on_stop_signals(stop.set)
    return 0 if exporter.serve_until(stop) else 1


def run_scheduler(with_dashboard: bool = True) -> int:
    """`python main.py` and `python main.py run`: schedule (and serve the dashboard) until SIGTERM or SIGINT.
    A dashboard that cannot listen (another scheduler on this machine serves it) is left out with a warning;
    one that would be exposed without a token stops the start."""
    settings = _settings()
    with_dashboard = with_dashboard and settings is not None and settings.dashboard.enabled
    if settings is None or not _exposure_allowed(settings, with_dashboard):
        return 2
    from scheduler.service import Scheduler

    _database_ready(settings)
    _first_start_jobs()
    from scheduler.job_commands import retry_policy

    scheduler = Scheduler(
        settings.scheduler_timezone,
        stop_wait_seconds=settings.scheduler_stop_wait_seconds,
        retry=retry_policy(settings),
        prefork=settings.scheduler_prefork,
    )
    server = None
    if with_dashboard:
        from dashboard.server import DashboardError, DashboardServer

        try:
            server = DashboardServer(settings)
            server.start()
        except DashboardError as error:
            server = None
            print(f"warning: the dashboard is not served: {error}; the scheduler runs without it", file=sys.stderr)

    def stop() -> None:
        scheduler.request_stop()
        if server is not None:
            server.stop()

    _on_stop_signals(stop)
    try:
        scheduler.run()
    except Exception as error:  # one line for the user; the traceback goes to the log file at DEBUG
        import logging

        from pipeline.command import one_line

        logging.getLogger("automation.scheduler").debug("scheduler failed", exc_info=True)
        print(f"Scheduler failed: {one_line(error)}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
            server.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
