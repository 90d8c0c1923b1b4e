"""Checking a job's settings before they reach the jobs table, for the CLI and the API alike: one line that
names the setting (as a `jobs add` option on the command line, as a field in the API), the bad value and what
is allowed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from config.field_errors import FieldError
from config.paths import PROJECT_ROOT
from config.user_text import CRON_EXPRESSION, DESCRIPTION, JOB_NAME, SCRIPT_PATH, TextRule
from scheduler.cron import CronError, parse_cron, zone_named
from storage import JobType

MAX_TIMEOUT_SECONDS = 7 * 24 * 3600
MAX_RETRIES = 100
CATCH_UP_POLICIES = ("skip", "latest", "all")


# The `jobs add`/`jobs edit` option of each jobs column that has one.
CLI_OPTIONS = {
    "cron_expression": "--cron",
    "timezone": "--tz",
    "job_type": "--type",
    "script_path": "--script",
    "script_args": "--args",
    "timeout_seconds": "--timeout",
    "max_retries": "--retries",
    "catch_up": "--catch-up",
    "catch_up_grace_seconds": "--catch-up-grace",
    "description": "--description",
}
# A new job's settings where none are given.
NEW_JOB_DEFAULTS: dict[str, Any] = {"job_type": JobType.CUSTOM, "timeout_seconds": 300, "max_retries": 0}


class JobSettingError(FieldError):
    """A bad job setting: `--cron='61 * * * *' is invalid; expected ...` on the command line,
    `cron_expression=...` in the API."""

    CLI_NAMES = CLI_OPTIONS

    def __init__(self, field: str, value: object, allowed: str) -> None:
        super().__init__(field, value, f"is invalid; expected {allowed}")


def check_name(name: str) -> None:
    """A job's name is what people type after `jobs run`: no surrounding white space, and it fits the column."""
    check_text("name", name, JOB_NAME)


def check_text(field: str, text: str, rule: TextRule) -> None:
    if not rule.admits(text):
        raise JobSettingError(field, text, rule.allowed)


def require_script(job_type: JobType, script_path: str | None) -> None:
    """Every job but a MONITORING one runs a script."""
    if job_type is not JobType.MONITORING and not script_path:
        raise JobSettingError("script_path", script_path, "a script for every job type but MONITORING")


def checked_job_values(values: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """The given job settings (None means not given) validated and converted for the jobs table; the cron
    expression is checked in the job's own zone when one is given."""
    checked: dict[str, Any] = {}
    if values.get("timezone") is not None:
        try:
            zone = zone_named(values["timezone"])
        except CronError:
            raise JobSettingError("timezone", values["timezone"], "an IANA time zone such as Europe/Berlin") from None
        checked["timezone"] = values["timezone"]
    for field, rule in _TEXT_RULES.items():
        if values.get(field) is not None:
            check_text(field, values[field], rule)
    if values.get("cron_expression") is not None:
        expression = " ".join(values["cron_expression"].split())  # as stored: tabs and runs of spaces as one space
        if not CRON_EXPRESSION.admits(expression):
            raise JobSettingError("cron_expression", values["cron_expression"], CRON_EXPRESSION.allowed)
        try:
            parse_cron(expression, zone)
        except CronError as error:
            raise JobSettingError(
                "cron_expression", values["cron_expression"], f"a cron expression that can fire ({error})"
            ) from None
        checked["cron_expression"] = expression
    if values.get("job_type") is not None:
        names = [member.name for member in JobType]
        if values["job_type"].upper() not in names:
            raise JobSettingError("job_type", values["job_type"], "one of " + ", ".join(names))
        checked["job_type"] = JobType[values["job_type"].upper()]
    if values.get("script_path") is not None:
        script = Path(values["script_path"])
        if not (script if script.is_absolute() else PROJECT_ROOT / script).is_file():
            raise JobSettingError(
                "script_path", values["script_path"], "an existing file (relative to the project root)"
            )
        checked["script_path"] = values["script_path"]
    if values.get("script_args") is not None:
        checked["script_args"] = _arguments(values["script_args"])
    if values.get("timeout_seconds") is not None:
        checked["timeout_seconds"] = _bounded("timeout_seconds", values["timeout_seconds"], 1, MAX_TIMEOUT_SECONDS)
    if values.get("max_retries") is not None:
        checked["max_retries"] = _bounded("max_retries", values["max_retries"], 0, MAX_RETRIES)
    if values.get("catch_up") is not None:
        if values["catch_up"] not in CATCH_UP_POLICIES:
            raise JobSettingError("catch_up", values["catch_up"], "one of " + ", ".join(CATCH_UP_POLICIES))
        checked["catch_up"] = values["catch_up"]
    if values.get("catch_up_grace_seconds") is not None:
        checked["catch_up_grace_seconds"] = _bounded(
            "catch_up_grace_seconds", values["catch_up_grace_seconds"], 0, MAX_TIMEOUT_SECONDS
        )
    if values.get("retry_timeouts") is not None:
        checked["retry_timeouts"] = bool(values["retry_timeouts"])
    if values.get("description") is not None:
        checked["description"] = values["description"]
    return checked


_TEXT_RULES = {"script_path": SCRIPT_PATH, "description": DESCRIPTION}


def _arguments(raw: str) -> str:
    try:
        arguments = json.loads(raw)
    except ValueError:
        arguments = None
    if not isinstance(arguments, list) or not all(isinstance(item, str) for item in arguments):
        raise JobSettingError("script_args", raw, 'a JSON list of strings such as ["--days", "7"]')
    return json.dumps(arguments)


def _bounded(field: str, value: int, minimum: int, maximum: int) -> int:
    if not minimum <= value <= maximum:
        raise JobSettingError(field, value, f"a whole number from {minimum} to {maximum}")
    return value
