"""/jobs: the jobs table (list, add, change, remove, enable, disable, run now) and the run history.

Jobs are added, changed, switched and removed through scheduler.job_service, as by `python main.py jobs`: a bad
name, cron expression, time zone, script or bound is a 422 whose detail names the field, the value and what is
allowed; a name another job has is a 409, an unknown job a 404.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import ConfigDict, Field
from sqlalchemy.engine import Connection

from config.user_text import CRON_EXPRESSION, DESCRIPTION, JOB_NAME, SCRIPT_PATH
from dashboard import documents
from dashboard.dependencies import Reader, settings_of
from dashboard.errors import error_responses, found_or_404
from dashboard.params import DEFAULT_PAGE, Limit, Offset, RowId
from dashboard.payloads import Payload, text_field
from dashboard.responses import json_response
from dashboard.routers import area_router, writes
from dashboard.schedules import next_run
from scheduler import job_service
from scheduler.cron_command import zone_or_default
from scheduler.executions import queue_manual_run
from scheduler.job_definitions import CATCH_UP_POLICIES, MAX_RETRIES, MAX_TIMEOUT_SECONDS, JobSettingError
from scheduler.service import STALE_AFTER_SECONDS
from storage import ExecutionStatus, JobType, db
from storage.job_queries import execution, job, last_runs, list_executions, list_jobs
from storage.scheduler_queries import newest_heartbeat

router = area_router("jobs", "/jobs")
Status = Annotated[ExecutionStatus | None, Query(description="only runs with this status")]


class JobChanges(Payload):
    """Fields to set; those left out (or null) keep their value."""

    model_config = ConfigDict(extra="forbid")

    cron_expression: str | None = text_field(CRON_EXPRESSION, None, examples=["*/5 * * * *"])
    job_type: str | None = Field(
        None, pattern=f"^(?i:{'|'.join(JobType.__members__)})$", description=", ".join(JobType.__members__)
    )
    script_path: str | None = text_field(SCRIPT_PATH, None, description="relative to the project root")
    script_args: list[str] | None = None
    timeout_seconds: int | None = Field(None, ge=1, le=MAX_TIMEOUT_SECONDS)
    max_retries: int | None = Field(None, ge=0, le=MAX_RETRIES)
    retry_timeouts: bool | None = None
    description: str | None = text_field(DESCRIPTION, None)
    timezone: str | None = Field(None, max_length=64, description="IANA zone of the cron expression")
    catch_up: str | None = Field(None, pattern=f"^({'|'.join(CATCH_UP_POLICIES)})$", description="skip, latest or all")
    catch_up_grace_seconds: int | None = Field(None, ge=0, le=MAX_TIMEOUT_SECONDS)
    enabled: bool | None = None


class NewJob(JobChanges):
    name: str = text_field(JOB_NAME)
    cron_expression: str = text_field(CRON_EXPRESSION, examples=["*/5 * * * *"])


def _settings(body: JobChanges) -> dict[str, Any]:
    """The body's settings as the job service takes them: script_args as JSON text, as on the command line."""
    settings = body.model_dump(exclude={"name"})
    if settings["script_args"] is not None:
        settings["script_args"] = json.dumps(settings["script_args"])
    return settings


@contextmanager
def _job_service_errors() -> Iterator[None]:
    """The job service's refusals as HTTP errors: a bad field 422, a name in use 409, an unknown job 404."""
    try:
        yield
    except job_service.JobNameTaken as error:
        raise HTTPException(409, error.conflict_message) from None
    except JobSettingError as error:
        raise HTTPException(422, error.field_message) from None
    except job_service.JobNotFound as error:
        raise HTTPException(404, str(error)) from None


def _job_document(row: dict[str, Any], last_run: dict[str, Any] | None, request: Request) -> dict[str, Any]:
    moment, error = next_run(row, zone_or_default(settings_of(request).scheduler_timezone), datetime.now(timezone.utc))
    return {
        **row,
        "job_type": row["job_type"].name,
        "script_args": json.loads(row["script_args"]) if row["script_args"] else [],
        "next_run_at": moment,
        "schedule_error": error,
        "last_run": last_run,
    }


def _job_or_404(reader: Connection, job_id: int) -> dict[str, Any]:
    return found_or_404(job(reader, job_id), "job", job_id)


def _reply_with_job(request: Request, job_id: int, status_code: int = 200) -> Response:
    with db.engine.connect() as reader:
        row = _job_or_404(reader, job_id)
        return json_response(_job_document(row, last_runs(reader).get(job_id), request), status_code=status_code)


@router.get("", summary="Every job with its next run and last run", response_model=documents.Jobs)
def jobs(request: Request, reader: Reader) -> Response:
    runs = last_runs(reader)
    return json_response({"items": [_job_document(row, runs.get(row["id"]), request) for row in list_jobs(reader)]})


@router.post("", summary="Add a job", status_code=201, response_model=documents.Job, **writes(409, body=True))
def add_job(request: Request, body: NewJob) -> Response:
    with _job_service_errors():
        added = job_service.add_job(body.name, _settings(body), settings_of(request).scheduler_timezone)
    return _reply_with_job(request, added.id, status_code=201)


@router.get(
    "/executions",
    summary="Runs of every job, newest first (without their output)",
    response_model=documents.ExecutionPage,
)
def all_executions(reader: Reader, status: Status = None, limit: Limit = DEFAULT_PAGE, offset: Offset = 0) -> Response:
    return json_response(
        {"items": list_executions(reader, None, status, limit, offset), "limit": limit, "offset": offset}
    )


@router.get(
    "/executions/{execution_id:int}",
    summary="One run, with its output",
    response_model=documents.Execution,
    responses=error_responses(404),
)
def one_execution(reader: Reader, execution_id: RowId) -> Response:
    return json_response(found_or_404(execution(reader, execution_id), "execution", execution_id))


@router.get(
    "/{job_id:int}",
    summary="One job with its next run and last run",
    response_model=documents.Job,
    responses=error_responses(404),
)
def one_job(request: Request, job_id: RowId) -> Response:
    return _reply_with_job(request, job_id)


@router.put(
    "/{job_id:int}",
    summary="Change a job's settings",
    response_model=documents.Job,
    **writes(404, 409, body=True),
)
def change_job(request: Request, job_id: RowId, body: JobChanges) -> Response:
    with _job_service_errors():
        job_service.change_job(job_id, _settings(body), settings_of(request).scheduler_timezone)
    return _reply_with_job(request, job_id)


@router.delete("/{job_id:int}", summary="Remove a job (its runs stay, unlinked)", status_code=204, **writes(404))
def remove_job(job_id: RowId) -> Response:
    with _job_service_errors():
        job_service.remove_job(job_id)
    return Response(status_code=204)


def _switch(request: Request, job_id: int, enabled: bool) -> Response:
    with _job_service_errors():
        job_service.set_enabled(job_id, enabled)
    return _reply_with_job(request, job_id)


@router.post(
    "/{job_id:int}/enable", summary="Let the scheduler run the job", response_model=documents.Job, **writes(404)
)
def enable_job(request: Request, job_id: RowId) -> Response:
    return _switch(request, job_id, True)


@router.post("/{job_id:int}/disable", summary="Stop scheduling the job", response_model=documents.Job, **writes(404))
def disable_job(request: Request, job_id: RowId) -> Response:
    return _switch(request, job_id, False)


@router.post(
    "/{job_id:int}/execute",
    summary="Run the job now; answers at once with the pending run",
    response_model=documents.Execution,
    status_code=202,
    **writes(404),
)
def execute(reader: Reader, job_id: RowId) -> Response:
    """The run is queued as a pending manual row that a running scheduler takes within about a second (and
    records as its own, so a scheduler that dies mid-run leaves it marked abandoned). With no scheduler beating,
    nothing is queued: 503."""
    _job_or_404(reader, job_id)
    heartbeat, _ = newest_heartbeat(reader)
    reader.rollback()
    if heartbeat is None or (datetime.now(timezone.utc) - heartbeat).total_seconds() > STALE_AFTER_SECONDS:
        raise HTTPException(503, "no scheduler is running to run the job: start one with `python main.py run`")
    execution_id = queue_manual_run(job_id)
    if execution_id is None:
        raise HTTPException(404, f"no job with id {job_id}")
    row = execution(reader, execution_id)
    return json_response(row, status_code=202, headers={"Location": f"/jobs/executions/{execution_id}"})


@router.get(
    "/{job_id:int}/executions",
    summary="A job's runs, newest first (without their output)",
    response_model=documents.ExecutionPage,
    responses=error_responses(404),
)
def job_executions(
    reader: Reader, job_id: RowId, status: Status = None, limit: Limit = DEFAULT_PAGE, offset: Offset = 0
) -> Response:
    _job_or_404(reader, job_id)
    return json_response(
        {"items": list_executions(reader, job_id, status, limit, offset), "limit": limit, "offset": offset}
    )
