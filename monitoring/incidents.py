"""The incident lifecycle, as a pure function: an incident's previous state and one observation in; its new
state and the events to notify out. No I/O: storage.incident_store loads and saves the state.

An incident is one breach of (host, metric, resource): pending until it has lasted ALERT_FOR, then WARNING or
CRITICAL; it escalates at once, but steps down or recovers only below its threshold minus ALERT_HYSTERESIS.
Events (each becomes one notifications row): firing, escalated, de-escalated, reminder (every
ALERT_REPEAT_MINUTES while unchanged and not acknowledged), resolved; and flapping / stable, which replace the
firing and resolved events of a key that changes state more than ALERT_FLAP_COUNT times in ALERT_FLAP_WINDOW.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NamedTuple

from monitoring.catalogue import Metric
from monitoring.grading import Alert, Measurement
from monitoring.levels import Level, Levels, grade_value
from monitoring.text_enum import TextEnum


class IncidentStatus(TextEnum):
    """alert_incidents.status: pending until it has lasted ALERT_FOR, then its level; ok once resolved."""

    PENDING = "pending"
    WARNING = "warning"
    CRITICAL = "critical"
    OK = "ok"


class EventKind(TextEnum):
    """notifications.event: what happened to an incident."""

    FIRING = "firing"
    ESCALATED = "escalated"
    DE_ESCALATED = "de-escalated"
    REMINDER = "reminder"
    RESOLVED = "resolved"
    FLAPPING = "flapping"
    STABLE = "stable"


class AlertSettings(NamedTuple):
    """How graded samples become incidents (config.alert_settings reads them from .env's ALERT_* keys)."""

    for_seconds: dict[str, float]  # by metric name: how long a breach stays pending before it fires
    hysteresis_points: float  # an active incident recovers below its threshold minus this
    repeat_seconds: float  # reminder interval while nothing changes; 0: every run
    flap_count: int  # more transitions than this within flap_window_seconds is flapping
    flap_window_seconds: float
    disk_predict_hours: float  # the window of the disk-usage trend
    disk_full_within_hours: float  # warn when the trend says full within this; 0: off


ACTIVE_STATUSES = (IncidentStatus.PENDING, IncidentStatus.WARNING, IncidentStatus.CRITICAL)
_RANK = {None: 0, Level.WARNING: 1, Level.CRITICAL: 2}
_STATUS_OF = {Level.WARNING: IncidentStatus.WARNING, Level.CRITICAL: IncidentStatus.CRITICAL}
_FIRING_LEVELS = {status: level for level, status in _STATUS_OF.items()}
TRANSITIONS = (EventKind.FIRING, EventKind.RESOLVED)  # what counts towards flapping


@dataclass(frozen=True)
class Incident:
    """One breach's state; `id` is None until stored."""

    host: str
    metric: str
    resource: str
    status: IncidentStatus
    started_at: datetime
    last_seen_at: datetime
    threshold: float
    last_value: float
    min_value: float
    max_value: float
    sum_value: float
    sample_count: int
    id: int | None = None
    peak_level: Level | None = None
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    last_notified_at: datetime | None = None
    acknowledged_at: datetime | None = None
    flapping: bool = False

    @property
    def level(self) -> Level | None:
        """WARNING or CRITICAL while firing; None while pending or resolved."""
        return _FIRING_LEVELS.get(self.status)

    @property
    def average_value(self) -> float:
        return self.sum_value / self.sample_count if self.sample_count else self.last_value

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def since(self) -> datetime:
        """Since when it has been firing; a pending one since its breach began."""
        return self.fired_at or self.started_at


class Event(NamedTuple):
    kind: EventKind
    level: Level  # of the notifications row: WARNING, CRITICAL or INFO
    incident: Incident
    previous_level: Level | None = None  # for escalations and de-escalations


class Observation(NamedTuple):
    """A measurement and the levels that apply to it (the per-resource ones where set)."""

    measurement: Measurement
    levels: Levels
    for_seconds: float

    @property
    def key(self) -> tuple[str, str]:
        return self.measurement.metric, self.measurement.resource or ""


def held_level(
    value: float, levels: Levels, current: Level | None, spec: Metric, hysteresis_points: float
) -> Level | None:
    """The level an incident at `current` keeps: it escalates as soon as the value crosses a higher threshold,
    but drops a level only once the value is below that level's threshold minus the hysteresis."""
    graded = grade_value(value, levels)
    raw = graded[0] if graded else None
    held = None
    for level, threshold in ((Level.CRITICAL, levels.critical), (Level.WARNING, levels.warning)):
        if (
            threshold is not None
            and _RANK[level] <= _RANK[current]
            and value > threshold - spec.recovery_margin(threshold, hysteresis_points)
        ):
            held = level
            break
    return raw if _RANK[raw] >= _RANK[held] else held


def step(
    incident: Incident | None, observation: Observation, host: str, now: datetime, settings: AlertSettings
) -> tuple[Incident | None, list[Event]]:
    """The key's incident after this observation (None: nothing active) and the events it raises, before
    flapping is applied (see `damp_flapping`)."""
    value, levels = observation.measurement.value, observation.levels
    current = incident.level if incident is not None and incident.active else None
    level = held_level(value, levels, current, observation.measurement.spec, settings.hysteresis_points)
    if level is None:
        if incident is None or incident.status == IncidentStatus.PENDING:
            return None, []  # a breach shorter than ALERT_FOR leaves nothing behind
        resolved = replace(
            incident,
            status=IncidentStatus.OK,
            resolved_at=now,
            last_seen_at=now,
            last_value=value,
            last_notified_at=now,
        )  # min/avg/max stay those of the active samples
        return resolved, [Event(EventKind.RESOLVED, Level.INFO, resolved, current)]
    threshold = levels.critical if level is Level.CRITICAL else levels.warning
    assert threshold is not None
    if incident is None:
        metric, resource = observation.key
        incident = Incident(
            host, metric, resource, IncidentStatus.PENDING, now, now, threshold, value, value, value, 0.0, 0
        )
    incident = _observed(incident, value, now, threshold)
    if incident.status == IncidentStatus.PENDING:
        if (now - incident.started_at).total_seconds() < observation.for_seconds:
            return incident, []
        fired = replace(incident, status=_STATUS_OF[level], fired_at=now, peak_level=level, last_notified_at=now)
        return fired, [Event(EventKind.FIRING, level, fired)]
    if level != current:
        kind = EventKind.ESCALATED if _RANK[level] > _RANK[current] else EventKind.DE_ESCALATED
        peak = level if _RANK[level] > _RANK[incident.peak_level] else incident.peak_level
        changed = replace(incident, status=_STATUS_OF[level], peak_level=peak, last_notified_at=now)
        return changed, [Event(kind, level, changed, current)]
    if incident.acknowledged_at is None and _reminder_due(incident, now, settings.repeat_seconds):
        reminded = replace(incident, last_notified_at=now)
        return reminded, [Event(EventKind.REMINDER, level, reminded)]
    return incident, []


def current_alerts(observations: list[Observation], active: dict[tuple[str, str], Incident]) -> list[Alert]:
    """The alerts of a run once its incidents are known, one per active incident, CRITICAL first: a firing
    incident at its own level (held by hysteresis, so a value just under its threshold still shows), a
    pending one at the level its value grades to."""
    alerts = []
    for observation in observations:
        incident = active.get(observation.key)
        if incident is None:
            continue
        level = incident.level
        if level is None:  # pending: its breach is in this very sample
            graded = grade_value(observation.measurement.value, observation.levels)
            assert graded is not None
            level = graded[0]
        alerts.append(Alert(observation.measurement, level, incident.threshold, observation.levels))
    return sorted(alerts, key=lambda alert: alert.level is not Level.CRITICAL)


def damp_flapping(
    incident: Incident | None,
    events: list[Event],
    flapping_since: Incident | None,
    transitions_in_window: int,
    settings: AlertSettings,
) -> tuple[Incident | None, list[Event], bool]:
    """While a key flaps its events are held back: the transition that makes it flap becomes one `flapping`
    event; once no transition happened for a whole window, one `stable` event says where it settled.
    `flapping_since` is the key's latest episode if it is marked flapping; `transitions_in_window` counts this
    step's transitions too. The flag returned says the key's flapping mark is to be cleared."""
    transitioned = any(event.kind in TRANSITIONS for event in events)
    if flapping_since is None:
        if transitioned and transitions_in_window > settings.flap_count and incident is not None:
            flapping = replace(incident, flapping=True)
            return flapping, [Event(EventKind.FLAPPING, Level.WARNING, flapping)], False
        return incident, events, False
    if transitions_in_window == 0:
        settled = replace(incident or flapping_since, flapping=False)
        stable = Event(EventKind.STABLE, settled.level or Level.INFO, settled)
        return (settled if incident is not None else None), [stable], True
    return (replace(incident, flapping=True) if incident is not None else None), [], False


def _observed(incident: Incident, value: float, now: datetime, threshold: float | None) -> Incident:
    return replace(
        incident,
        last_seen_at=now,
        last_value=value,
        min_value=min(incident.min_value, value),
        max_value=max(incident.max_value, value),
        sum_value=incident.sum_value + value,
        sample_count=incident.sample_count + 1,
        threshold=incident.threshold if threshold is None else threshold,
    )


def _reminder_due(incident: Incident, now: datetime, repeat_seconds: float) -> bool:
    last = incident.last_notified_at or incident.fired_at or incident.started_at
    return repeat_seconds == 0 or now - last >= timedelta(seconds=repeat_seconds)
