"""The shapes of the API's answers as /openapi.json declares them (the routes' `response_model`).

Routes encode their JSON themselves (dashboard.responses), so these models only document it and cost nothing
per request; tests/test_api_contract.py holds every answer to them. A row of a table is described from the
table itself (row_model), so a new column needs no second declaration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, create_model
from sqlalchemy import Enum, Table

from monitoring.catalogue import FLEET_FIGURES
from storage import tables


def row_model(table: Table, name: str) -> type[BaseModel]:
    """A row of `table`: each column a field of its Python type (enums as their text), null only where the
    column allows it, and optional (a list may leave it out)."""
    fields: dict[str, Any] = {}
    for column in table.columns:
        stored = getattr(column.type, "impl_instance", column.type)  # a TypeDecorator's: what it stores
        kind: Any = str if isinstance(column.type, Enum) else stored.python_type
        fields[column.name] = (kind | None if column.nullable else kind, None)
    return create_model(name, __config__=ConfigDict(extra="allow"), **fields)


Incident = row_model(tables.alert_incidents, "Incident")
Silence = row_model(tables.alert_silences, "Silence")
Execution = row_model(tables.job_executions, "Execution")
Delivery = row_model(tables.notification_deliveries, "Delivery")
Notification = row_model(tables.notifications, "Notification")


class NotificationWithDeliveries(Notification):  # type: ignore[misc,valid-type]
    deliveries: list[Delivery]  # type: ignore[valid-type]


class Job(row_model(tables.jobs, "JobRow")):  # type: ignore[misc]
    """A job with its schedule: the next run (or why there is none) and the newest run."""

    job_type: str
    script_args: list[str]
    next_run_at: datetime | None
    schedule_error: str | None
    last_run: Execution | None  # type: ignore[valid-type]


class Page(BaseModel):
    limit: int
    offset: int


class IncidentPage(Page):
    items: list[Incident]  # type: ignore[valid-type]


class ExecutionPage(Page):
    items: list[Execution]  # type: ignore[valid-type]


class NotificationPage(Page):
    items: list[Notification]  # type: ignore[valid-type]


class Silences(BaseModel):
    items: list[Silence]  # type: ignore[valid-type]


class Jobs(BaseModel):
    items: list[Job]


class Acknowledged(BaseModel):
    id: int
    acknowledged: bool


class NewSilence(BaseModel):
    id: int
    pattern: str
    until: datetime
    reason: str | None


class Unsilenced(BaseModel):
    ended: int


class Hosts(BaseModel):
    items: list[str]


class TokenCheck(BaseModel):
    token: Literal["accepted", "refused", "none sent", "not needed"]
    writes_enabled: bool


class Series(BaseModel):
    metric: str
    hostname: str
    start: datetime | None
    end: datetime | None
    limit: int
    count: int
    data: list[dict[str, Any]]


class Processes(BaseModel):
    timestamp: datetime
    hostname: str
    sort_by: Literal["cpu", "memory"]
    count: int
    processes: list[dict[str, Any]]


class Health(BaseModel):
    """Healthy (200) or not (503, with the reasons); the checks' details may grow."""

    model_config = ConfigDict(extra="allow")

    status: Literal["healthy", "unhealthy"]
    time: datetime
    reasons: list[str]
    database: dict[str, Any]
    scheduler: dict[str, Any] | None = None
    monitoring: dict[str, Any] | None = None


class _FleetHostBase(BaseModel):
    """A host of the fleet view: its status, worst active incident, newest sample's headline figures and what
    its agent last said. `registered`: it has a hosts row (an ingest key); a host that only has samples (this
    server's own monitor) has none, and its last_seen_at is its newest sample's time."""

    name: str
    status: Literal["up", "silent", "maintenance", "never seen"]
    worst_level: Literal["critical", "warning", "pending"] | None
    active_incidents: int
    disk_mountpoint: str | None
    sample_at: datetime | None
    last_seen_at: datetime | None
    silent_after_seconds: float
    interval_seconds: float | None
    registered: bool
    has_key: bool | None
    agent_version: str | None
    source: str | None
    clock_skew_seconds: float | None
    maintenance_since: datetime | None


# The headline figures are the catalogue's FLEET_FIGURES, each a number or null.
FleetHost = create_model("FleetHost", __base__=_FleetHostBase, **dict.fromkeys(FLEET_FIGURES, (float | None, ...)))  # type: ignore[call-overload]


class FleetHosts(BaseModel):
    time: datetime
    items: list[FleetHost]  # type: ignore[valid-type]


class HostKey(BaseModel):
    """A host's ingest key, shown this once (only its sha256 is stored)."""

    name: str
    key: str


class HostRevoked(BaseModel):
    name: str
    has_key: Literal[False]
