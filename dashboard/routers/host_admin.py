"""/api/v1/hosts/{name}: maintenance on or off, and removal (the history kept, or purged), as `main.py hosts
maintenance|remove` do (fleet.host_admin). Writes: they need the API token. An unknown host is a 404 naming it."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, StrictBool

from dashboard.params import HostName
from dashboard.payloads import Payload
from dashboard.responses import json_response
from dashboard.routers import area_router, writes
from fleet.host_admin import remove_host, set_maintenance
from storage import db

router = area_router("hosts", "/api/v1/hosts")


class MaintenanceChange(Payload):
    model_config = ConfigDict(extra="forbid")

    maintenance: StrictBool  # true or false only: 0 or "no" is a 422, as the schema says


class Maintenance(BaseModel):
    host: str
    maintenance: bool
    incidents_closed: int  # active silent-host incidents closed quietly as maintenance began


class Removed(BaseModel):
    host: str
    purged: bool
    samples: int  # deleted with --purge, else kept
    notifications: int
    incidents: int


def _unknown(name: str) -> HTTPException:
    return HTTPException(404, f"no host named {name!r}")


@router.put(
    "/{name}/maintenance",
    summary="Put a host in maintenance (no silent-host alerts; an active one is closed quietly) or take it out",
    response_model=Maintenance,
    **writes(404, body=True),
)
def maintenance(name: HostName, body: MaintenanceChange) -> Response:
    closed = set_maintenance(db.engine, name, body.maintenance)
    if closed is None:
        raise _unknown(name)
    return json_response({"host": name, "maintenance": body.maintenance, "incidents_closed": closed})


@router.delete(
    "/{name}",
    summary="Remove a host: its key stops working; its samples, notifications and incidents stay unless purge=true",
    response_model=Removed,
    **writes(404),
)
def remove(
    name: HostName,
    purge: Annotated[bool, Query(description="also delete its samples, notifications and incidents")] = False,
) -> Response:
    data = remove_host(db.engine, name, purge)
    if data is None:
        raise _unknown(name)
    return json_response({"host": name, "purged": purge, **data._asdict()})
