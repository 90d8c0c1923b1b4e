"""/incidents: active and past incidents, acknowledging, silences (the `alerts` commands' own functions)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import HTTPException, Path
from fastapi.responses import Response
from pydantic import Field

from alerts.commands import (
    AlertArgumentError,
    AlertCommandError,
    IncidentNotFound,
    IncidentResolved,
    acknowledge_incident,
    silence_incidents,
    unsilence_incidents,
)
from config.user_text import ACKNOWLEDGED_BY, SILENCE_PATTERN, SILENCE_REASON
from dashboard import documents
from dashboard.dependencies import Reader
from dashboard.errors import error_responses, found_or_404
from dashboard.params import DEFAULT_PAGE, Limit, Offset, RowId
from dashboard.payloads import Payload, text_field
from dashboard.responses import json_response
from dashboard.routers import area_router, writes
from storage.incident_actions import active_silences, incident, list_incidents

router = area_router("incidents", "/incidents")
_STATUS = {"active": True, "resolved": False, "all": None}


class Acknowledgement(Payload):
    by: str = text_field(ACKNOWLEDGED_BY, "dashboard", description="who acknowledged it")


class SilenceRequest(Payload):
    pattern: str = text_field(
        SILENCE_PATTERN, description="glob over metric, metric:resource or host:metric:resource, e.g. disk_*:/var*"
    )
    until: str = Field(min_length=1, max_length=64, description="a duration from now (30m, 2h, 1d) or an ISO 8601 time")
    reason: str | None = text_field(SILENCE_REASON, None)


@router.get(
    "", summary="Incidents newest first: active (default), resolved or all", response_model=documents.IncidentPage
)
def incidents(
    reader: Reader,
    status: Literal["active", "resolved", "all"] = "active",
    limit: Limit = DEFAULT_PAGE,
    offset: Offset = 0,
) -> Response:
    return json_response(
        {"items": list_incidents(reader, _STATUS[status], limit, offset), "limit": limit, "offset": offset}
    )


@router.get("/silences", summary="Silences in force", response_model=documents.Silences)
def silences(reader: Reader) -> Response:
    return json_response({"items": active_silences(reader, datetime.now(timezone.utc))})


@router.get(
    "/{incident_id:int}", summary="One incident", response_model=documents.Incident, responses=error_responses(404)
)
def one_incident(reader: Reader, incident_id: RowId) -> Response:
    return json_response(found_or_404(incident(reader, incident_id), "incident", incident_id))


@router.post(
    "/{incident_id:int}/ack",
    summary="Acknowledge an active incident: no more reminders for it",
    response_model=documents.Acknowledged,
    **writes(404, 409, body=True),
)
def acknowledge(incident_id: RowId, body: Acknowledgement | None = None) -> Response:
    try:
        acknowledge_incident(incident_id, (body or Acknowledgement()).by)
    except IncidentNotFound:
        raise HTTPException(404, f"no incident with id {incident_id}") from None
    except IncidentResolved as error:
        raise HTTPException(409, str(error)) from None
    except AlertArgumentError as error:
        raise HTTPException(422, error.field_message) from None
    return json_response({"id": incident_id, "acknowledged": True})


@router.post(
    "/silences",
    summary="Silence matching incidents until a time",
    response_model=documents.NewSilence,
    status_code=201,
    **writes(body=True),
)
def silence(body: SilenceRequest) -> Response:
    try:
        silence_id, pattern, until = silence_incidents(body.pattern, body.until, body.reason)
    except AlertArgumentError as error:
        raise HTTPException(422, error.field_message) from None
    return json_response({"id": silence_id, "pattern": pattern, "until": until, "reason": body.reason}, status_code=201)


@router.delete(
    "/silences/{silence:path}",
    summary="End silences early, by id or exact pattern (a pattern's `/` may stay as it is or be sent as %2F)",
    response_model=documents.Unsilenced,
    **writes(404),
)
def unsilence(silence: Annotated[str, Path(max_length=SILENCE_PATTERN.max_length)]) -> Response:
    try:
        ended = unsilence_incidents(silence)
    except AlertCommandError:
        raise HTTPException(404, f"no active silence {silence!r}") from None
    return json_response({"ended": ended})
