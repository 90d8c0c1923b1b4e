"""What a job may run and what it inherits. A job runs a program as the scheduler's user, so the API token is
the key to a shell: scripts are accepted only inside JOBS_ALLOWED_DIRS, and only the jobs JOBS_SECRETS_FOR
names get the platform's secrets in their environment. See .env.example's "Scheduler" section.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from config.fields import ConfigError, parse_list
from config.paths import resolve_path

JOB_KEYS = ("JOBS_ALLOWED_DIRS", "JOBS_SECRETS_FOR")
DEFAULT_ALLOWED_DIRS = "scripts"
# Variables a job does not inherit from the scheduler unless it opts in: the platform's own secrets, and the
# database clients' password variables.
SECRET_VARIABLES = (
    "API_TOKEN",
    "NOTIFY_URLS",
    "EMAIL_SMTP_PASSWORD",
    "SLACK_WEBHOOK_URL",
    "DATABASE_URL",
    "PGPASSWORD",
    "MYSQL_PWD",
)
ALLOWED_DIRS_HELP = "comma-separated existing directories (relative to the project root), such as scripts,/opt/jobs"


class JobSettings(NamedTuple):
    allowed_dirs: tuple[Path, ...]  # resolved (symlinks followed): a job's script must resolve inside one
    secrets_for: frozenset[str]  # names of the jobs that inherit SECRET_VARIABLES


def parse_job_settings(values: Mapping[str, str]) -> JobSettings:
    raw = values.get("JOBS_ALLOWED_DIRS", "").strip() or DEFAULT_ALLOWED_DIRS
    allowed_dirs = tuple(resolve_path(item).resolve() for item in parse_list(raw))
    if not allowed_dirs or not all(directory.is_dir() for directory in allowed_dirs):
        raise ConfigError("JOBS_ALLOWED_DIRS", raw, ALLOWED_DIRS_HELP)
    return JobSettings(allowed_dirs, frozenset(parse_list(values.get("JOBS_SECRETS_FOR", ""))))


def load_job_settings() -> JobSettings:
    """The job settings of the current .env and environment, for code that has no Settings at hand (the runner,
    the job service): reading them costs a .env parse, not a whole Settings."""
    from config.settings import read_values

    return parse_job_settings(read_values()[1])


def script_allowed(script: Path, allowed_dirs: tuple[Path, ...]) -> bool:
    """Whether the script (relative to the project root) resolves, symlinks and `..` followed, inside one of
    the allowed directories."""
    resolved = resolve_path(str(script)).resolve()
    return any(resolved.is_relative_to(directory) for directory in allowed_dirs)
