"""/api/v1/hosts: the fleet view (every host with its status, worst active incident and newest figures) and the
hosts' ingest keys (add, rotate, revoke: the `main.py hosts` commands' own functions, fleet.enrolment).

A key is in the answer that makes it and nowhere else: never logged, never stored (only its sha256), and the
answer is marked not to be cached.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import Response

from config.user_text import HOST_NAME
from dashboard import documents
from dashboard.dependencies import Reader, settings_of
from dashboard.errors import error_responses
from dashboard.params import HostName
from dashboard.payloads import Payload, text_field
from dashboard.responses import json_response
from dashboard.routers import area_router, writes
from fleet.enrolment import (
    EnrolmentRefused,
    HostNameTaken,
    InvalidHostName,
    UnknownHost,
    add_host,
    revoke_key,
    rotate_key,
)
from fleet.host_status import describe_host
from storage.fleet_queries import fleet_hosts
from storage.types import utc_now

router = area_router("hosts", "/api/v1/hosts")
_NOT_CACHED = {"Cache-Control": "no-store"}


class NewHost(Payload):
    name: str = text_field(HOST_NAME, description="the name its samples will carry")


def _refused(refused: EnrolmentRefused) -> HTTPException:
    """The HTTP answer to a refusal, naming the field and the value."""
    name = refused.name
    if isinstance(refused, InvalidHostName):
        return HTTPException(422, f"name={name!r} is invalid; expected {refused.allowed}")
    if isinstance(refused, HostNameTaken):
        return HTTPException(409, f"name={name!r} is taken; POST /api/v1/hosts/{name}/rotate gives it a new key")
    assert isinstance(refused, UnknownHost)
    return HTTPException(404, f"no host named {name!r}")


@router.get(
    "",
    summary="Every host: registered ones and those with samples only (this server's own monitor), with status "
    "(up, silent, maintenance, never seen), worst active incident and newest CPU, memory and disk figures",
    response_model=documents.FleetHosts,
)
def hosts(request: Request, reader: Reader) -> Response:
    hosts = fleet_hosts(reader, kept=request.app.state.newest_samples)
    now, fleet = utc_now(), settings_of(request).fleet
    return json_response({"time": now, "items": [describe_host(fleet, now, host) for host in hosts]})


@router.get(
    "/{name}", summary="One host, as in the list", response_model=documents.FleetHost, responses=error_responses(404)
)
def one_host(request: Request, reader: Reader, name: HostName) -> Response:
    found = fleet_hosts(reader, name)
    if not found:
        raise HTTPException(404, f"no host named {name!r}")
    return json_response(describe_host(settings_of(request).fleet, utc_now(), found[0]))


@router.post(
    "",
    summary="Add a host: its ingest key is in this answer only",
    response_model=documents.HostKey,
    status_code=201,
    **writes(409, body=True),
)
def add(body: NewHost) -> Response:
    try:
        key = add_host(body.name)
    except EnrolmentRefused as refused:
        raise _refused(refused) from None
    return json_response({"name": body.name, "key": key}, status_code=201, headers=_NOT_CACHED)


@router.post(
    "/{name}/rotate",
    summary="A new ingest key for the host, in this answer only; the old key stops working",
    response_model=documents.HostKey,
    **writes(404),
)
def rotate(name: HostName) -> Response:
    try:
        key = rotate_key(name)
    except EnrolmentRefused as refused:
        raise _refused(refused) from None
    return json_response({"name": name, "key": key}, headers=_NOT_CACHED)


@router.post(
    "/{name}/revoke",
    summary="Revoke the host's ingest key: its pushes are refused until a rotate",
    response_model=documents.HostRevoked,
    **writes(404),
)
def revoke(name: HostName) -> Response:
    try:
        revoke_key(name)
    except EnrolmentRefused as refused:
        raise _refused(refused) from None
    return json_response({"name": name, "has_key": False})
