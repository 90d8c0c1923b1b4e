"""Checking a job's settings before they reach the jobs table (the CLI now, the API later): one line that names
the option, the bad value and what is allowed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from config.paths import PROJECT_ROOT
from scheduler.cron import CronError, parse_cron, zone_named
from storage import JobType

MAX_TIMEOUT_SECONDS = 7 * 24 * 3600
MAX_RETRIES = 100
CATCH_UP_POLICIES = ("skip", "latest", "all")


class JobSettingError(ValueError):
    """str() is the one line shown to the user."""

    def __init__(self, option: str, value: object, allowed: str) -> None:
        super().__init__(f"{option}={value!r} is invalid; expected {allowed}")


def checked_job_values(values: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """The given job settings (None means not given) validated and converted for the jobs table; the cron
    expression is checked in the job's own zone when one is given."""
    checked: dict[str, Any] = {}
    if values.get("timezone") is not None:
        try:
            zone = zone_named(values["timezone"])
        except CronError:
            raise JobSettingError("--tz", values["timezone"], "an IANA time zone such as Europe/Berlin") from None
        checked["timezone"] = values["timezone"]
    if values.get("cron_expression") is not None:
        try:
            parse_cron(values["cron_expression"], zone)
        except CronError as error:
            raise JobSettingError("--cron", values["cron_expression"], f"a cron expression that can fire ({error})") \
                from None
        checked["cron_expression"] = " ".join(values["cron_expression"].split())
    if values.get("job_type") is not None:
        names = [member.name for member in JobType]
        if values["job_type"].upper() not in names:
            raise JobSettingError("--type", values["job_type"], "one of " + ", ".join(names))
        checked["job_type"] = JobType[values["job_type"].upper()]
    if values.get("script_path") is not None:
        script = Path(values["script_path"])
        if not (script if script.is_absolute() else PROJECT_ROOT / script).is_file():
            raise JobSettingError("--script", values["script_path"], "an existing file (relative to the project root)")
        checked["script_path"] = values["script_path"]
    if values.get("script_args") is not None:
        checked["script_args"] = _arguments(values["script_args"])
    if values.get("timeout_seconds") is not None:
        checked["timeout_seconds"] = _bounded("--timeout", values["timeout_seconds"], 1, MAX_TIMEOUT_SECONDS)
    if values.get("max_retries") is not None:
        checked["max_retries"] = _bounded("--retries", values["max_retries"], 0, MAX_RETRIES)
    if values.get("catch_up") is not None:
        if values["catch_up"] not in CATCH_UP_POLICIES:
            raise JobSettingError("--catch-up", values["catch_up"], "one of " + ", ".join(CATCH_UP_POLICIES))
        checked["catch_up"] = values["catch_up"]
    if values.get("catch_up_grace_seconds") is not None:
        checked["catch_up_grace_seconds"] = _bounded("--catch-up-grace", values["catch_up_grace_seconds"], 0,
                                                     MAX_TIMEOUT_SECONDS)
    if values.get("retry_timeouts") is not None:
        checked["retry_timeouts"] = bool(values["retry_timeouts"])
    if values.get("description") is not None:
        checked["description"] = values["description"]
    return checked


def _arguments(raw: str) -> str:
    try:
        arguments = json.loads(raw)
    except ValueError:
        arguments = None
    if not isinstance(arguments, list) or not all(isinstance(item, str) for item in arguments):
        raise JobSettingError("--args", raw, 'a JSON list of strings such as ["--days", "7"]')
    return json.dumps(arguments)


def _bounded(option: str, value: int, minimum: int, maximum: int) -> int:
    if not minimum <= value <= maximum:
        raise JobSettingError(option, value, f"a whole number from {minimum} to {maximum}")
    return value
