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

from fastapi import Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import ConfigDict, Field
from sqlalchemy.engine import Connection

from config.user_text import CRON_EXPRESSION, DESCRIPTION, JOB_NAME, SCRIPT_PATH
from dashboard.dependencies import Reader, settings_of, write_access
from dashboard.errors import found_or_404
from dashboard.params import DEFAULT_PAGE, Limit, Offset, RowId
from dashboard.payloads import Payload, text_field
from dashboard.responses import json_response
from dashboard.routers import area_router
from dashboard.schedules import next_run
from scheduler import job_service
from scheduler.cron_command import zone_or_default
from scheduler.executions import queue_manual_run
from scheduler.job_definitions import JobSettingError
from scheduler.service import STALE_AFTER_SECONDS
from storage import ExecutionStatus, db
from storage.job_queries import execution, job, last_runs, list_executions, list_jobs
from storage.scheduler_queries import newest_heartbeat

router = area_router("jobs", "/jobs")
Status = Annotated[ExecutionStatus | None, Query(description="only runs with this status")]


class JobChanges(Payload):
    """Fields to set; those left out (or null) keep their value."""

    model_config = ConfigDict(extra="forbid")

    cron_expression: str | None = text_field(CRON_EXPRESSION, None, examples=["*/5 * * * *"])
    job_type: str | None = Field(
        None, description="MONITORING, CUSTOM, BACKUP, SECURITY, LOG_ANALYSIS, CLEANUP, REPORT"
    )
    script_path: str | None = text_field(SCRIPT_PATH, None, description="relative to the project root")
    script_args: list[str] | None = None
    timeout_seconds: int | None = None
    max_retries: int | None = None
    retry_timeouts: bool | None = None
    description: str | None = text_field(DESCRIPTION, None)
    timezone: str | None = Field(None, max_length=64, description="IANA zone of the cron expression")
    catch_up: str | None = Field(None, description="skip, latest or all")
    catch_up_grace_seconds: int | None = None
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


@router.get("", summary="Every job with its next run and last run")
def jobs(request: Request, reader: Reader) -> Response:
    runs = last_runs(reader)
    return json_response({"items": [_job_document(row, runs.get(row["id"]), request) for row in list_jobs(reader)]})


@router.post("", summary="Add a job", status_code=201, dependencies=[Depends(write_access)])
def add_job(request: Request, body: NewJob) -> Response:
    with _job_service_errors():
        added = job_service.add_job(body.name, _settings(body), settings_of(request).scheduler_timezone)
    return _reply_with_job(request, added.id, status_code=201)


@router.get("/executions", summary="Runs of every job, newest first (without their output)")
def all_executions(reader: Reader, status: Status = None, limit: Limit = DEFAULT_PAGE, offset: Offset = 0) -> Response:
    return json_response(
        {"items": list_executions(reader, None, status, limit, offset), "limit": limit, "offset": offset}
    )


@router.get("/executions/{execution_id}", summary="One run, with its output")
def one_execution(reader: Reader, execution_id: RowId) -> Response:
    return json_response(found_or_404(execution(reader, execution_id), "execution", execution_id))


@router.get("/{job_id}", summary="One job with its next run and last run")
def one_job(request: Request, job_id: RowId) -> Response:
    return _reply_with_job(request, job_id)


@router.put("/{job_id}", summary="Change a job's settings", dependencies=[Depends(write_access)])
def change_job(request: Request, job_id: RowId, body: JobChanges) -> Response:
    with _job_service_errors():
        job_service.change_job(job_id, _settings(body), settings_of(request).scheduler_timezone)
    return _reply_with_job(request, job_id)


@router.delete(
    "/{job_id}", summary="Remove a job (its runs stay, unlinked)", status_code=204, dependencies=[Depends(write_access)]
)
def remove_job(job_id: RowId) -> Response:
    with _job_service_errors():
        job_service.remove_job(job_id)
    return Response(status_code=204)


def _switch(request: Request, job_id: int, enabled: bool) -> Response:
    with _job_service_errors():
        job_service.set_enabled(job_id, enabled)
    return _reply_with_job(request, job_id)


@router.post("/{job_id}/enable", summary="Let the scheduler run the job", dependencies=[Depends(write_access)])
def enable_job(request: Request, job_id: RowId) -> Response:
    return _switch(request, job_id, True)


@router.post("/{job_id}/disable", summary="Stop scheduling the job", dependencies=[Depends(write_access)])
def disable_job(request: Request, job_id: RowId) -> Response:
    return _switch(request, job_id, False)


@router.post(
    "/{job_id}/execute",
    summary="Run the job now; answers at once with the pending run",
    status_code=202,
    dependencies=[Depends(write_access)],
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


@router.get("/{job_id}/executions", summary="A job's runs, newest first (without their output)")
def job_executions(
    reader: Reader, job_id: RowId, status: Status = None, limit: Limit = DEFAULT_PAGE, offset: Offset = 0
) -> Response:
    _job_or_404(reader, job_id)
    return json_response(
        {"items": list_executions(reader, job_id, status, limit, offset), "limit": limit, "offset": offset}
    )
