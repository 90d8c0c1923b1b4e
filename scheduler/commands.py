"""Command-line actions of the scheduler: `main.py cron next`, `main.py jobs list|next|run|history|cron-line`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from scheduler.cron import CronError, fire_times, parse_cron, system_zone, zone_named

MAX_FIRE_TIMES = 1000


def add_cron_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="cron_command", metavar="ACTION", required=True)
    next_times = actions.add_parser(
        "next", help="print the next fire times of a cron expression, with their UTC offsets",
        description="Check an expression before trusting it: the next N fire times in a time zone, daylight-saving "
                    "changes handled as cron handles them.")
    next_times.add_argument("expression", help="5 fields (minute hour day-of-month month day-of-week) or @hourly, "
                                               "@daily, @weekly, @monthly, @yearly; quote it")
    next_times.add_argument("--tz", metavar="ZONE",
                            help="IANA time zone (default: SCHEDULER_TIMEZONE, else the system zone)")
    next_times.add_argument("--from", dest="start", metavar="ISO-DATETIME",
                            help="count from this moment (default: now); without an offset it is read in --tz")
    next_times.add_argument("-n", dest="count", type=int, default=5, metavar="N",
                            help=f"how many fire times (1-{MAX_FIRE_TIMES}, default 5)")


def add_jobs_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    actions.add_parser("list", help="the jobs table with each job's next run",
                       description="List the jobs in the database with their schedule and next run.")
    next_times = actions.add_parser("next", help="print a job's next fire times",
                                    description="Print the next fire times of a job's cron expression.")
    next_times.add_argument("name", help="the job's name")
    next_times.add_argument("-n", dest="count", type=int, default=5, metavar="N",
                            help=f"how many fire times (1-{MAX_FIRE_TIMES}, default 5)")
    run = actions.add_parser("run", help="run a job now, record it in job_executions and print the outcome",
                             description="Run a job now (its timeout and output capture apply) and record the run.")
    run.add_argument("name", help="the job's name")
    run.add_argument("--trigger", choices=["manual", "os-cron"], default="manual",
                     help="how the run was started (os-cron: by the line `jobs cron-line` prints)")
    history = actions.add_parser("history", help="a job's last runs", description="The last runs of a job.")
    history.add_argument("name", help="the job's name")
    history.add_argument("-n", dest="count", type=int, default=20, metavar="N", help="how many runs (default 20)")
    cron_line = actions.add_parser("cron-line", help="a crontab line that runs the job through the platform",
                                   description="Print a crontab line that runs the job with `jobs run --trigger "
                                               "os-cron`, so OS cron runs are recorded like scheduled ones.")
    cron_line.add_argument("name", help="the job's name")


def run_cron_next(args: argparse.Namespace, default_zone: str | None) -> int:
    """Print the fire times; a bad expression, zone, date or count is one line and exit code 2."""
    try:
        zone = zone_named(args.tz) if args.tz else _default_zone(default_zone)
        schedule = parse_cron(args.expression, zone)
        start = _start(args.start, zone)
        _check_count(args.count)
    except CronError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _print_times(fire_times(schedule, start, args.count))
    return 0


def run_jobs(args: argparse.Namespace, default_zone: str | None) -> int:
    """`jobs list` and `jobs next NAME`; an unknown job or a bad count is one line and exit code 2."""
    from sqlalchemy import select

    from storage import Job, db

    zone = _default_zone(default_zone)
    now = datetime.now(timezone.utc)
    if args.jobs_command in ("run", "history", "cron-line"):
        return _run_job_command(args, default_zone)
    with db.session_scope() as session:
        if args.jobs_command == "list":
            jobs = session.scalars(select(Job).order_by(Job.name)).all()
            print(f"{'NAME':<24} {'TYPE':<12} {'SCHEDULE':<16} {'ENABLED':<8} {'TIMEOUT':>8}  NEXT RUN ({zone.key})")
            for job in jobs:
                print(f"{job.name:<24} {job.job_type.name:<12} {job.cron_expression:<16} "
                      f"{'yes' if job.enabled else 'no':<8} {job.timeout_seconds:>7}s  {_next_run(job, zone, now)}")
            return 0
        job = session.scalar(select(Job).where(Job.name == args.name))
        try:
            if job is None:
                raise CronError(f"no job named {args.name!r}; `python main.py jobs list` shows the jobs")
            _check_count(args.count)
            schedule = parse_cron(job.cron_expression, zone)
        except CronError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    _print_times(fire_times(schedule, now, args.count))
    return 0


def _next_run(job: object, zone: ZoneInfo, now: datetime) -> str:
    if not job.enabled:  # type: ignore[attr-defined]
        return "-"
    try:
        [moment] = fire_times(parse_cron(job.cron_expression, zone), now, 1)  # type: ignore[attr-defined]
    except CronError as error:
        return f"never: {error}"
    return moment.isoformat(sep=" ")


def _default_zone(name: str | None) -> ZoneInfo:
    return zone_named(name) if name else system_zone()


def _check_count(count: int) -> None:
    if not 1 <= count <= MAX_FIRE_TIMES:
        raise CronError(f"-n={count} is invalid; expected a whole number from 1 to {MAX_FIRE_TIMES}")


def _print_times(moments: list[datetime]) -> None:
    for moment in moments:
        print(f"{moment:%a} {moment.isoformat(sep=' ')} {moment.tzname()}")


def _start(raw: str | None, zone: ZoneInfo) -> datetime:
    if raw is None:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise CronError(f"--from={raw!r} is invalid; expected an ISO 8601 date-time such as 2024-11-02T12:00, "
                        f"2024-11-02T12:00:00-04:00 or 2024-11-02T16:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _run_job_command(args: argparse.Namespace, default_zone: str | None) -> int:
    from sqlalchemy import select

    from scheduler.executions import JobDefinitionError, execute_job
    from storage import ExecutionTrigger, Job, JobExecution, db

    with db.session_scope() as session:
        job = session.scalar(select(Job).where(Job.name == args.name))
        if job is None:
            print(f"error: no job named {args.name!r}; `python main.py jobs list` shows the jobs", file=sys.stderr)
            return 2
        if args.jobs_command == "history":
            runs = session.scalars(select(JobExecution).where(JobExecution.job_id == job.id)
                                   .order_by(JobExecution.id.desc()).limit(max(args.count, 1))).all()
            print(f"{'ID':>6}  {'STATUS':<10} {'TRIGGER':<9} {'STARTED (UTC)':<19}  {'SECONDS':>8}  {'EXIT':>4}  ERROR")
            for run in runs:
                started = f"{run.started_at:%Y-%m-%d %H:%M:%S}" if run.started_at else "-"
                seconds = f"{run.duration_seconds:.2f}" if run.duration_seconds is not None else "-"
                exit_code = "-" if run.exit_code is None else str(run.exit_code)
                print(f"{run.id:>6}  {run.status.value:<10} {run.trigger.value:<9} {started:<19}  {seconds:>8}  "
                      f"{exit_code:>4}  {run.error_message or ''}")
            return 0
        if args.jobs_command == "cron-line":
            print(_cron_line(job.name, job.cron_expression, default_zone))
            return 0
        job_id = job.id
    try:
        run = execute_job(job_id, ExecutionTrigger(args.trigger))
    except JobDefinitionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{args.name}: {run.status.value} in {run.duration_seconds or 0:.2f} s"
          f"{'' if run.exit_code is None else f' (exit code {run.exit_code})'} - execution {run.id}"
          f"{': ' + run.error_message if run.error_message else ''}")
    return 0 if run.status.value == "success" else 1


def _cron_line(name: str, expression: str, zone: str | None) -> str:
    """`CRON_TZ=` (cronie) keeps the schedule in the platform's zone; the wrapper records the run itself."""
    import shlex

    from config.paths import PROJECT_ROOT

    command = (f"cd {shlex.quote(str(PROJECT_ROOT))} && {shlex.quote(sys.executable)} main.py jobs run "
               f"{shlex.quote(name)} --trigger os-cron")
    line = f"{expression} {command}"
    return f"CRON_TZ={zone}\n{line}" if zone else line
