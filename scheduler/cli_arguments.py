"""The scheduler's command-line arguments, kept apart from the actions so that building main.py's parser
imports nothing heavy (the monitor's start-up must not pay for the ORM)."""

from __future__ import annotations

import argparse

MAX_FIRE_TIMES = 1000  # also the most runs `jobs history` shows, as an API page holds


def add_cron_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="cron_command", metavar="ACTION", required=True)
    next_times = actions.add_parser(
        "next",
        help="print the next fire times of a cron expression, with their UTC offsets",
        description="Check an expression before trusting it: the next N fire times in a time zone, daylight-saving "
        "changes handled as cron handles them.",
    )
    next_times.add_argument(
        "expression",
        help="5 fields (minute hour day-of-month month day-of-week) or @hourly, "
        "@daily, @weekly, @monthly, @yearly; quote it",
    )
    next_times.add_argument(
        "--tz", metavar="ZONE", help="IANA time zone (default: SCHEDULER_TIMEZONE, else the system zone)"
    )
    next_times.add_argument(
        "--from",
        dest="start",
        metavar="ISO-DATETIME",
        help="count from this moment (default: now); without an offset it is read in --tz",
    )
    next_times.add_argument(
        "-n",
        dest="count",
        type=int,
        default=5,
        metavar="N",
        help=f"how many fire times (1-{MAX_FIRE_TIMES}, default 5)",
    )


def add_jobs_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    actions.add_parser(
        "list",
        help="the jobs table with each job's next run",
        description="List the jobs in the database with their schedule and next run.",
    )
    next_times = actions.add_parser(
        "next",
        help="print a job's next fire times",
        description="Print the next fire times of a job's cron expression.",
    )
    next_times.add_argument("name", help="the job's name")
    next_times.add_argument(
        "-n",
        dest="count",
        type=int,
        default=5,
        metavar="N",
        help=f"how many fire times (1-{MAX_FIRE_TIMES}, default 5)",
    )
    run = actions.add_parser(
        "run",
        help="run a job now, record it in job_executions and print the outcome",
        description="Run a job now (its timeout and output capture apply) and record the run.",
    )
    run.add_argument("name", help="the job's name")
    run.add_argument(
        "--trigger",
        choices=["manual", "os-cron"],
        default="manual",
        help="how the run was started (os-cron: by the line `jobs cron-line` prints)",
    )
    history = actions.add_parser("history", help="a job's last runs", description="The last runs of a job.")
    history.add_argument("name", help="the job's name")
    history.add_argument(
        "-n", dest="count", type=int, default=20, metavar="N", help=f"how many runs (1-{MAX_FIRE_TIMES}, default 20)"
    )
    cron_line = actions.add_parser(
        "cron-line",
        help="a crontab line that runs the job through the platform",
        description="Print a crontab line that runs the job with `jobs run --trigger "
        "os-cron`, so OS cron runs are recorded like scheduled ones.",
    )
    cron_line.add_argument("name", help="the job's name")
    schtasks = actions.add_parser(
        "schtasks",
        help="Windows Task Scheduler XML for a job, and its schtasks command",
        description="Write Task Scheduler XML that runs the job with `jobs run --trigger "
        "os-cron`, and print the `schtasks /Create` command that registers it.",
    )
    schtasks.add_argument("name", help="the job's name")
    schtasks.add_argument("--output", metavar="FILE", help="where to write the XML (default: NAME.xml here)")
    add = actions.add_parser(
        "add",
        help="add a job (its cron expression is checked first)",
        description="Add a job. The cron expression must be valid and able to fire.",
    )
    add.add_argument("name", help="a unique name")
    add.add_argument("--cron", required=True, metavar="EXPR", help="when it runs, e.g. '*/5 * * * *' or @daily")
    _add_job_options(add, for_edit=False)
    edit = actions.add_parser("edit", help="change a job's settings", description="Change the given settings.")
    edit.add_argument("name", help="the job's name")
    edit.add_argument("--cron", metavar="EXPR", help="when it runs, e.g. '*/5 * * * *' or @daily")
    _add_job_options(edit, for_edit=True)
    for action, words in (
        ("enable", "let the scheduler run a job"),
        ("disable", "stop scheduling a job"),
        ("remove", "delete a job (its run history stays, without the link)"),
    ):
        parser_for_action = actions.add_parser(action, help=words, description=words[0].upper() + words[1:] + ".")
        parser_for_action.add_argument("name", help="the job's name")


def _add_job_options(parser: argparse.ArgumentParser, for_edit: bool) -> None:
    parser.add_argument(
        "--type",
        dest="job_type",
        metavar="TYPE",
        help="MONITORING (runs the monitor), CUSTOM (default for add), BACKUP, SECURITY, "
        "LOG_ANALYSIS, CLEANUP or REPORT",
    )
    parser.add_argument(
        "--script",
        dest="script_path",
        metavar="PATH",
        help="the program to run: a .py file (run with the platform's Python) or an executable; "
        "relative paths are taken from the project root",
    )
    parser.add_argument("--args", dest="script_args", metavar="JSON", help='arguments as a JSON list, e.g. ["-v"]')
    parser.add_argument(
        "--timeout",
        dest="timeout_seconds",
        type=int,
        metavar="SECONDS",
        help="end the run after this long (default for add: 300)",
    )
    parser.add_argument(
        "--retries",
        dest="max_retries",
        type=int,
        metavar="N",
        help="retries after a failure, with exponential backoff (SCHEDULER_RETRY_*_SECONDS)",
    )
    parser.add_argument(
        "--retry-timeouts",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="retry a run that timed out too (default: no)",
    )
    parser.add_argument("--description", metavar="TEXT")
    parser.add_argument(
        "--catch-up",
        dest="catch_up",
        metavar="POLICY",
        help="slots missed while no scheduler ran: skip (only record them), latest (run the newest "
        "once; the default) or all",
    )
    parser.add_argument(
        "--catch-up-grace",
        dest="catch_up_grace_seconds",
        type=int,
        metavar="SECONDS",
        help="a missed slot older than this is only recorded (default 3600)",
    )
    parser.add_argument(
        "--tz",
        dest="timezone",
        metavar="ZONE",
        help="IANA time zone of the cron expression (default: SCHEDULER_TIMEZONE)",
    )
    if not for_edit:
        parser.add_argument("--disabled", action="store_true", help="add it without scheduling it yet")
