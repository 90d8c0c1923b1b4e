"""`main.py jobs list|next|run|history|cron-line|schtasks|add|edit|enable|disable|remove`: the jobs table from the
command line; jobs are added and changed through scheduler.job_service, as in the API.

Every bad input (an unknown job, a bad name or setting, a count out of range, a job row that cannot run) is one
line on stderr and exit code 2; a run that fails is exit code 1.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from config.paths import PROJECT_ROOT
from config.settings import Settings
from scheduler.cron import CronError, fire_times, parse_cron, zone_named
from scheduler.cron_command import check_count, print_times, zone_or_default
from scheduler.executions import JobDefinitionError, RetryPolicy, execute_job
from scheduler.job_definitions import JobSettingError
from scheduler.job_service import JobNotFound, add_job, change_job, existing_job, remove_job, set_enabled
from storage import ExecutionTrigger, db
from storage.job_queries import list_executions, list_jobs


def run_jobs(args: argparse.Namespace, settings: Settings) -> int:
    action: Callable[[argparse.Namespace, Settings], int] = _ACTIONS[args.jobs_command]
    try:
        return action(args, settings)
    except JobNotFound as error:
        print(f"error: {error}; `python main.py jobs list` shows the jobs", file=sys.stderr)
        return 2
    except (CronError, JobDefinitionError, JobSettingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _list(args: argparse.Namespace, settings: Settings) -> int:
    zone, now = zone_or_default(settings.scheduler_timezone), datetime.now(timezone.utc)
    with db.engine.connect() as connection:
        jobs = list_jobs(connection)  # by name
    print(f"{'NAME':<24} {'TYPE':<12} {'SCHEDULE':<16} {'ENABLED':<8} {'TIMEOUT':>8}  NEXT RUN ({zone.key})")
    for job in jobs:
        print(
            f"{job['name']:<24} {job['job_type'].name:<12} {job['cron_expression']:<16} "
            f"{'yes' if job['enabled'] else 'no':<8} {job['timeout_seconds']:>7}s  {_next_run(job, zone, now)}"
        )
    return 0


def _next_run(job: dict[str, Any], zone: ZoneInfo, now: datetime) -> str:
    if not job["enabled"]:
        return "-"
    try:
        [moment] = fire_times(parse_cron(job["cron_expression"], _job_zone(job, zone)), now, 1)
    except CronError as error:
        return f"never: {error}"
    return moment.isoformat(sep=" ")


def _job_zone(job: dict[str, Any], default: ZoneInfo) -> ZoneInfo:
    return zone_named(job["timezone"]) if job["timezone"] else default


def _job_named(name: str) -> dict[str, Any]:
    with db.engine.connect() as connection:
        return existing_job(connection, name)


def _next(args: argparse.Namespace, settings: Settings) -> int:
    check_count(args.count)
    zone = zone_or_default(settings.scheduler_timezone)
    job = _job_named(args.name)
    schedule = parse_cron(job["cron_expression"], _job_zone(job, zone))
    print_times(fire_times(schedule, datetime.now(timezone.utc), args.count))
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    job = _job_named(args.name)
    with _elapsed_on_terminal(args.name, job["timeout_seconds"]):
        run = execute_job(job["id"], ExecutionTrigger(args.trigger), retry=retry_policy(settings))
    exit_code = "" if run.exit_code is None else f" (exit code {run.exit_code})"
    reason = f": {run.error_message}" if run.error_message else ""
    print(
        f"{args.name}: {run.status.value} in {run.duration_seconds or 0:.2f} s{exit_code} - execution {run.id}{reason}"
    )
    return 0 if run.status.value == "success" else 1


@contextmanager
def _elapsed_on_terminal(name: str, timeout_seconds: int) -> Iterator[None]:
    """While the run lasts, a line on a terminal's stderr saying how long it has been going (tqdm), removed at the
    end; nothing when stderr is a pipe or a file (an OS cron line, a script)."""
    if not sys.stderr.isatty():
        yield
        return
    from tqdm import tqdm

    ended = threading.Event()
    bar_format = f"running {name}: {{elapsed}} (timeout {timeout_seconds} s)"
    with tqdm(total=timeout_seconds, bar_format=bar_format, leave=False) as bar:

        def tick() -> None:
            while not ended.wait(1):
                bar.refresh()

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            ended.set()
            ticker.join()


def _history(args: argparse.Namespace, settings: Settings) -> int:
    check_count(args.count)
    with db.engine.connect() as connection:
        runs = list_executions(connection, existing_job(connection, args.name)["id"], None, args.count, 0)
    print(f"{'ID':>6}  {'STATUS':<10} {'TRIGGER':<9} {'STARTED (UTC)':<19}  {'SECONDS':>8}  {'EXIT':>4}  ERROR")
    for run in runs:  # newest first
        started = f"{run['started_at']:%Y-%m-%d %H:%M:%S}" if run["started_at"] else "-"
        seconds = "-" if run["duration_seconds"] is None else f"{run['duration_seconds']:.2f}"
        exit_code = "-" if run["exit_code"] is None else str(run["exit_code"])
        print(
            f"{run['id']:>6}  {run['status'].value:<10} {run['trigger'].value:<9} {started:<19}  {seconds:>8}  "
            f"{exit_code:>4}  {run['error_message'] or ''}"
        )
    return 0


def _cron_line(args: argparse.Namespace, settings: Settings) -> int:
    """`CRON_TZ=` (cronie) keeps the schedule in the job's zone; the wrapper records the run itself. A schedule or
    command cron would run otherwise than the scheduler is refused (scheduler.crontab_line)."""
    from scheduler.crontab_line import NotCronable, crontab_line

    job = _job_named(args.name)
    zone_name = job["timezone"] or settings.scheduler_timezone
    command = (
        f"cd {shlex.quote(str(PROJECT_ROOT))} && {shlex.quote(sys.executable)} main.py jobs run "
        f"{shlex.quote(job['name'])} --trigger os-cron"
    )
    try:
        line = crontab_line(parse_cron(job["cron_expression"], zone_or_default(zone_name)), command)
    except NotCronable as error:
        raise JobDefinitionError(
            f"cron_expression={job['cron_expression']!r} is invalid; expected a schedule OS cron can run: {error}"
        ) from None
    if zone_name:
        print(f"CRON_TZ={zone_name}")
    print(line)
    return 0


def _schtasks(args: argparse.Namespace, settings: Settings) -> int:
    """Task Scheduler runs in the machine's local time, whatever SCHEDULER_TIMEZONE says."""
    import re
    import subprocess
    from pathlib import Path

    from scheduler.schtasks import NotExpressible, task_xml

    job = _job_named(args.name)
    try:
        task = task_xml(
            job["cron_expression"],
            job["description"] or f"automation platform job {job['name']}",
            sys.executable,
            subprocess.list2cmdline(["main.py", "jobs", "run", job["name"], "--trigger", "os-cron"]),
            str(PROJECT_ROOT),
            job["timeout_seconds"],
        )
    except NotExpressible as error:
        raise JobDefinitionError(
            f"cron_expression={job['cron_expression']!r} is invalid; expected a schedule "
            f"Task Scheduler can express: {error}"
        ) from None
    # A name may hold what a file name cannot (`/`, `:` on Windows): the default file replaces those characters.
    output = Path(args.output or re.sub(r'[<>:"/\\|?*]', "_", args.name) + ".xml").resolve()
    try:
        task.write(output, encoding="UTF-16", xml_declaration=True)
    except OSError as error:
        allowed = f"a file that can be written ({error.strerror or error})"
        raise JobSettingError("--output", str(output), allowed) from None
    print(f'schtasks /Create /XML "{output}" /TN "{args.name}" /F')
    return 0


_SETTING_OPTIONS = (
    "cron",
    "job_type",
    "script_path",
    "script_args",
    "timeout_seconds",
    "max_retries",
    "description",
    "timezone",
    "catch_up",
    "catch_up_grace_seconds",
    "retry_timeouts",
)


def _given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The job settings given as options, by column name; None where an option is not given."""
    given = {name: getattr(args, name, None) for name in _SETTING_OPTIONS}
    given["cron_expression"] = given.pop("cron")
    return given


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(settings.scheduler_retry_base_seconds, settings.scheduler_retry_max_seconds)


def _add(args: argparse.Namespace, settings: Settings) -> int:
    added = add_job(args.name, {**_given_settings(args), "enabled": not args.disabled}, settings.scheduler_timezone)
    print(f"added job {args.name} ({added.values['cron_expression']})")
    return 0


def _edit(args: argparse.Namespace, settings: Settings) -> int:
    given = _given_settings(args)
    if all(value is None for value in given.values()):
        raise JobSettingError("options", None, "at least one setting to change (see jobs edit --help)")
    changed = change_job(args.name, given, settings.scheduler_timezone)
    print(f"changed {', '.join(sorted(changed.values))} of job {args.name}")
    return 0


def _switch(args: argparse.Namespace, settings: Settings) -> int:
    if args.jobs_command == "remove":
        remove_job(args.name)
    else:
        set_enabled(args.name, args.jobs_command == "enable")
    print(f"{args.jobs_command}d job {args.name}")  # enabled, disabled, removed
    return 0


_ACTIONS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "list": _list,
    "next": _next,
    "run": _run,
    "history": _history,
    "cron-line": _cron_line,
    "add": _add,
    "edit": _edit,
    "enable": _switch,
    "disable": _switch,
    "remove": _switch,
    "schtasks": _schtasks,
}
