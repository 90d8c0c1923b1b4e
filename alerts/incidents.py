"""The incident lifecycle, as a pure function: an incident's previous state and one observation in; its new
state and the events to notify out. No I/O: alerts.incident_store loads and saves the state.

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

from config.alert_settings import AlertSettings
from config.thresholds import Levels, MetricSpec
from scripts.monitoring.grading import CRITICAL, WARNING, Alert, Measurement, grade_value

PENDING, OK = "pending", "ok"
ACTIVE_STATUSES = (PENDING, WARNING.lower(), CRITICAL.lower())
_RANK = {None: 0, WARNING: 1, CRITICAL: 2}

FIRING, ESCALATED, DE_ESCALATED, REMINDER, RESOLVED = "firing", "escalated", "de-escalated", "reminder", "resolved"
FLAPPING, STABLE = "flapping", "stable"
TRANSITIONS = (FIRING, RESOLVED)  # what counts towards flapping


@dataclass(frozen=True)
class Incident:
    """One breach's state; `id` is None until stored."""

    host: str
    metric: str
    resource: str
    status: str  # pending, warning, critical; ok once resolved
    started_at: datetime
    last_seen_at: datetime
    threshold: float
    last_value: float
    min_value: float
    max_value: float
    sum_value: float
    sample_count: int
    id: int | None = None
    peak_level: str | None = None
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    last_notified_at: datetime | None = None
    acknowledged_at: datetime | None = None
    flapping: bool = False

    @property
    def level(self) -> str | None:
        """WARNING or CRITICAL while firing; None while pending or resolved."""
        return self.status.upper() if self.status in (WARNING.lower(), CRITICAL.lower()) else None

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
    kind: str  # firing, escalated, de-escalated, reminder, resolved, flapping, stable
    level: str  # of the notifications row: WARNING, CRITICAL or INFO
    incident: Incident
    previous_level: str | None = None  # for escalations and de-escalations


class Observation(NamedTuple):
    """A measurement and the levels that apply to it (the per-resource ones where set)."""

    measurement: Measurement
    levels: Levels
    for_seconds: float

    @property
    def key(self) -> tuple[str, str]:
        return self.measurement.metric, self.measurement.resource or ""


def held_level(value: float, levels: Levels, current: str | None, spec: MetricSpec,
               hysteresis_points: float) -> str | None:
    """The level an incident at `current` keeps: it escalates as soon as the value crosses a higher threshold,
    but drops a level only once the value is below that level's threshold minus the hysteresis."""
    graded = grade_value(value, levels)
    raw = graded[0] if graded else None
    held = None
    for level, threshold in ((CRITICAL, levels.critical), (WARNING, levels.warning)):
        if (threshold is not None and _RANK[level] <= _RANK[current]
                and value > threshold - spec.recovery_margin(threshold, hysteresis_points)):
            held = level
            break
    return raw if _RANK[raw] >= _RANK[held] else held


def step(incident: Incident | None, observation: Observation, host: str, now: datetime,
         settings: AlertSettings) -> tuple[Incident | None, list[Event]]:
    """The key's incident after this observation (None: nothing active) and the events it raises, before
    flapping is applied (see `damp_flapping`)."""
    value, levels = observation.measurement.value, observation.levels
    current = incident.level if incident is not None and incident.active else None
    level = held_level(value, levels, current, observation.measurement.spec, settings.hysteresis_points)
    if level is None:
        if incident is None or incident.status == PENDING:
            return None, []  # a breach shorter than ALERT_FOR leaves nothing behind
        resolved = replace(incident, status=OK, resolved_at=now, last_seen_at=now, last_value=value,
                           last_notified_at=now)  # min/avg/max stay those of the active samples
        return resolved, [Event(RESOLVED, "INFO", resolved, current)]
    threshold = levels.critical if level == CRITICAL else levels.warning
    assert threshold is not None
    if incident is None:
        metric, resource = observation.key
        incident = Incident(host, metric, resource, PENDING, now, now, threshold, value, value, value, 0.0, 0)
    incident = _observed(incident, value, now, threshold)
    if incident.status == PENDING:
        if (now - incident.started_at).total_seconds() < observation.for_seconds:
            return incident, []
        fired = replace(incident, status=level.lower(), fired_at=now, peak_level=level, last_notified_at=now)
        return fired, [Event(FIRING, level, fired)]
    if level != current:
        kind = ESCALATED if _RANK[level] > _RANK[current] else DE_ESCALATED
        peak = level if _RANK[level] > _RANK[incident.peak_level] else incident.peak_level
        changed = replace(incident, status=level.lower(), peak_level=peak, last_notified_at=now)
        return changed, [Event(kind, level, changed, current)]
    if incident.acknowledged_at is None and _reminder_due(incident, now, settings.repeat_seconds):
        reminded = replace(incident, last_notified_at=now)
        return reminded, [Event(REMINDER, level, reminded)]
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
    return sorted(alerts, key=lambda alert: alert.level != CRITICAL)


def damp_flapping(incident: Incident | None, events: list[Event], flapping_since: Incident | None,
                  transitions_in_window: int, settings: AlertSettings,
                  ) -> tuple[Incident | None, list[Event], bool]:
    """While a key flaps its events are held back: the transition that makes it flap becomes one `flapping`
    event; once no transition happened for a whole window, one `stable` event says where it settled.
    `flapping_since` is the key's latest episode if it is marked flapping; `transitions_in_window` counts this
    step's transitions too. The flag returned says the key's flapping mark is to be cleared."""
    transitioned = any(event.kind in TRANSITIONS for event in events)
    if flapping_since is None:
        if transitioned and transitions_in_window > settings.flap_count and incident is not None:
            flapping = replace(incident, flapping=True)
            return flapping, [Event(FLAPPING, WARNING, flapping)], False
        return incident, events, False
    if transitions_in_window == 0:
        settled = replace(incident or flapping_since, flapping=False)
        return (settled if incident is not None else None), [Event(STABLE, settled.level or "INFO", settled)], True
    return (replace(incident, flapping=True) if incident is not None else None), [], False


def _observed(incident: Incident, value: float, now: datetime, threshold: float | None) -> Incident:
    return replace(incident, last_seen_at=now, last_value=value, min_value=min(incident.min_value, value),
                   max_value=max(incident.max_value, value), sum_value=incident.sum_value + value,
                   sample_count=incident.sample_count + 1,
                   threshold=incident.threshold if threshold is None else threshold)


def _reminder_due(incident: Incident, now: datetime, repeat_seconds: float) -> bool:
    last = incident.last_notified_at or incident.fired_at or incident.started_at
    return repeat_seconds == 0 or now - last >= timedelta(seconds=repeat_seconds)
