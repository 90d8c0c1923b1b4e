"""`--json`: the sample and its alerts as one JSON document (times ISO 8601 with offset)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from monitoring.alert_text import alert_line
from monitoring.grading import Alert
from monitoring.incidents import Incident
from monitoring.sample import Sample


def render_json(
    sample: Sample,
    alerts: Sequence[Alert],
    sample_id: int | None,
    incidents: Mapping[tuple[str, str], Incident] = MappingProxyType({}),
) -> str:
    """Each alert carries its incident's id, status (pending, warning, critical), since when and for how many
    seconds it has been so; null where no incident state is known (--no-save)."""
    document = _plain(sample)
    if sample.processes is not None:
        del document["processes"]["table"]  # every process's counters: the top lists carry what matters
    document["id"] = sample_id
    document["alerts"] = [
        {
            "level": alert.level,
            "metric": alert.metric,
            "resource": alert.resource,
            "value": alert.value,
            "threshold": alert.threshold,
            "warning_threshold": alert.levels.warning,
            "critical_threshold": alert.levels.critical,
            "message": alert_line(alert),
            **_incident_fields(incidents.get((alert.metric, alert.resource or "")), sample.timestamp),
        }
        for alert in alerts
    ]
    return json.dumps(document, default=_default, indent=2)


def _incident_fields(incident: Incident | None, now: datetime) -> dict[str, Any]:
    if incident is None:
        return dict.fromkeys(("incident_id", "status", "since", "active_seconds"))
    return {
        "incident_id": incident.id,
        "status": incident.status,
        "since": incident.since,
        "active_seconds": (now - incident.since).total_seconds(),
    }


def _plain(value: Any) -> Any:
    """Dataclasses and NamedTuples as dicts, recursively (dataclasses.asdict keeps NamedTuples as lists); a
    reading's JSON_PROPERTIES (derived values that are graded) beside its fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [item.name for item in dataclasses.fields(value)] + list(getattr(value, "JSON_PROPERTIES", ()))
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {name: _plain(item) for name, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
