"""The environment a job's process starts with: the scheduler's, less the platform's secrets (API_TOKEN,
NOTIFY_URLS, the SMTP and database passwords: config.job_settings.SECRET_VARIABLES), unless the job runs the
platform's own code (a MONITORING job, or main.py such as the built-in data_retention: they need the database
and the notification URLs even where only the scheduler's environment holds them) or JOBS_SECRETS_FOR names
it."""

from __future__ import annotations

from collections.abc import Mapping

from config.job_settings import SECRET_VARIABLES, JobSettings
from config.paths import PROJECT_ROOT, resolve_path
from storage import JobType

PLATFORM_ENTRY_POINT = PROJECT_ROOT / "main.py"


def inherited_environment(
    job_name: str, job_type: JobType, script_path: str | None, settings: JobSettings, environ: Mapping[str, str]
) -> dict[str, str]:
    """`environ` as the job may see it."""
    if is_platform_job(job_type, script_path) or job_name in settings.secrets_for:
        return dict(environ)
    return {key: value for key, value in environ.items() if key not in SECRET_VARIABLES}


def is_platform_job(job_type: JobType, script_path: str | None) -> bool:
    """A job that runs the platform's own code: the monitor, or a `main.py` command."""
    if job_type is JobType.MONITORING:
        return True
    return bool(script_path) and resolve_path(str(script_path)).resolve() == PLATFORM_ENTRY_POINT.resolve()
