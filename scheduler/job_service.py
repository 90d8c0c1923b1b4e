"""Adding, changing, switching and removing jobs, for `main.py jobs` and the API alike, so both take and refuse
the same input: a name on one line without surrounding white space (job_definitions.check_name), settings
checked by job_definitions.checked_job_values (the cron expression in the zone the job will have), a script for
every type but MONITORING, inside JOBS_ALLOWED_DIRS, and a name no other job has.

Bad input is a JobSettingError (the command line names the option, the API the field), JobNameTaken for a name
in use; a job that does not exist is JobNotFound. Each call is one write transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from config.job_settings import load_job_settings, script_allowed
from config.user_text import JOB_NAME
from scheduler.cron_command import zone_or_default
from scheduler.job_definitions import NEW_JOB_DEFAULTS, JobSettingError, check_name, checked_job_values, require_script
from storage import db
from storage.database import write_transaction
from storage.job_queries import delete_job, insert_job, job, job_id_named, job_named, update_job

JobKey = int | str  # a job's id (the API) or its name (the command line)
STORABLE_NAME = JOB_NAME._replace(min_length=0, trimmed=False)  # what a name found in the jobs table may be


class JobNotFound(LookupError):
    """No job has this id or name; str() says which was looked for."""

    def __init__(self, key: JobKey) -> None:
        self.key = key
        super().__init__(f"no job named {key!r}" if isinstance(key, str) else f"no job with id {key}")


class JobNameTaken(JobSettingError):
    """Another job has the name: bad input on the command line, a conflict (409) in the API."""

    ALLOWED = "a name no other job has"

    def __init__(self, name: str) -> None:
        super().__init__("name", name, self.ALLOWED)

    @property
    def conflict_message(self) -> str:
        return f"name={self.value!r} is taken; expected {self.ALLOWED}"


class SavedJob(NamedTuple):
    id: int
    values: dict[str, Any]  # the columns written: every one for a new job, the changed ones for a change


def existing_job(connection: Connection, key: JobKey) -> dict[str, Any]:
    """The job's row, by id or name."""
    if isinstance(key, str) and not STORABLE_NAME.admits(key):
        raise JobNotFound(key)  # no job has it, and the database could not even be asked (NUL, bytes not UTF-8)
    row = job(connection, key) if isinstance(key, int) else job_named(connection, key)
    if row is None:
        raise JobNotFound(key)
    return row


def add_job(name: str, settings: dict[str, Any], default_zone_name: str | None) -> SavedJob:
    """A new job with the given settings (a None value is not given: its default applies); enabled unless
    `settings` says otherwise. `default_zone_name` is SCHEDULER_TIMEZONE, for a job without a zone of its own."""
    check_name(name)
    values = {**NEW_JOB_DEFAULTS, "enabled": True, **_checked(settings, {}, default_zone_name)}
    try:
        with write_transaction(db.engine) as connection:
            if job_id_named(connection, name) is not None:
                raise JobNameTaken(name)
            job_id = insert_job(connection, {"name": name, **values})
    except IntegrityError:  # another writer took the name since the check
        raise JobNameTaken(name) from None
    return SavedJob(job_id, values)


def change_job(key: JobKey, settings: dict[str, Any], default_zone_name: str | None) -> SavedJob:
    """Change the given settings (a None value keeps the current one), `enabled` included."""
    with write_transaction(db.engine) as connection:
        current = existing_job(connection, key)
        changes = _checked(settings, current, default_zone_name)
        if changes:
            update_job(connection, current["id"], changes)
    return SavedJob(current["id"], changes)


def set_enabled(key: JobKey, enabled: bool) -> int:
    """Let the scheduler run the job, or stop it; the job's id. Nothing else is checked again, so a job whose
    row was broken by hand can still be disabled."""
    with write_transaction(db.engine) as connection:
        job_id = existing_job(connection, key)["id"]
        update_job(connection, job_id, {"enabled": enabled})
    return job_id


def remove_job(key: JobKey) -> None:
    """Delete the job; its runs stay, unlinked."""
    with write_transaction(db.engine) as connection:
        delete_job(connection, existing_job(connection, key)["id"])


def require_allowed_script(script_path: str) -> None:
    """A job's script must resolve (symlinks and `..` followed) inside JOBS_ALLOWED_DIRS: whoever holds the API
    token can otherwise run any program as the scheduler's user."""
    settings = load_job_settings()
    if not script_allowed(Path(script_path), settings.allowed_dirs):
        shown = ", ".join(str(directory) for directory in settings.allowed_dirs)
        raise JobSettingError("script_path", script_path, f"a script inside JOBS_ALLOWED_DIRS ({shown})")


def _checked(settings: dict[str, Any], current: dict[str, Any], default_zone_name: str | None) -> dict[str, Any]:
    """The given settings validated for the jobs table: the cron expression is checked in the zone the job will
    have, the type against the script it will have; `enabled` is taken as given."""
    given = {key: value for key, value in settings.items() if value is not None}
    merged = {"cron_expression": current.get("cron_expression"), "timezone": current.get("timezone"), **given}
    checked = checked_job_values(merged, zone_or_default(default_zone_name))
    changes = {key: value for key, value in checked.items() if key in given}
    require_script(
        changes.get("job_type", current.get("job_type", NEW_JOB_DEFAULTS["job_type"])),
        changes.get("script_path", current.get("script_path")),
    )
    if "script_path" in changes:
        require_allowed_script(changes["script_path"])
    if "enabled" in given:
        changes["enabled"] = given["enabled"]
    return changes
