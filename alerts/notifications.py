"""notifications rows for the incident events of one sample: what fired, escalated, stepped down, is still
active (a reminder), resolved, flaps or settled. Delivery to people is alerts.delivery's."""

from __future__ import annotations

from typing import Any

from monitoring.alert_text import alert_message, alert_title, format_duration, format_value
from monitoring.grading import Alert
from monitoring.incidents import AlertSettings, Event, EventKind, Observation
from monitoring.sample import Sample

CHANNEL = "system_monitoring"
TITLE_MAX_LENGTH = 255


def event_values(
    event: Event,
    observation: Observation,
    sample: Sample,
    settings: AlertSettings,
    job_execution_id: int | None = None,
    silenced: bool = False,
) -> dict[str, Any]:
    """One notifications row; storage fills in system_metric_id."""
    title, message = _words(event, observation, sample, settings)
    incident, measurement = event.incident, observation.measurement
    return dict(
        title=title[:TITLE_MAX_LENGTH],
        message=message,
        level=event.level,
        channel=CHANNEL,
        sent_at=sample.timestamp,
        success=True,
        job_execution_id=job_execution_id,
        host=sample.hostname,
        metric=measurement.metric,
        resource=measurement.resource,
        value=measurement.value,
        threshold=incident.threshold,
        incident_id=incident.id,
        event=event.kind,
        silenced=silenced,
    )


def _words(event: Event, observation: Observation, sample: Sample, settings: AlertSettings) -> tuple[str, str]:
    incident, measurement = event.incident, observation.measurement
    spec, host = measurement.spec, sample.hostname
    subject = spec.label + (f" of {measurement.display}" if measurement.display else "")
    lasted = format_duration((sample.timestamp - incident.since).total_seconds())
    window = format_duration(settings.flap_window_seconds)
    now = format_value(spec, measurement.value)
    if event.kind is EventKind.RESOLVED:
        return (
            f"[RESOLVED] {subject} on {host}",
            f"{subject} is back to {now} after {lasted}; peak "
            f"{format_value(spec, incident.max_value)} ({incident.peak_level}); min/avg/max "
            f"{format_value(spec, incident.min_value)}/{format_value(spec, incident.average_value)}/"
            f"{format_value(spec, incident.max_value)} over {incident.sample_count} samples",
        )
    if event.kind is EventKind.FLAPPING:
        return (
            f"[FLAPPING] {subject} on {host}",
            f"{subject} changed state more than {settings.flap_count} times within {window} (now "
            f"{now}); its notifications pause until it is stable for {window}",
        )
    if event.kind is EventKind.STABLE:
        state = incident.level if incident.active and incident.level else "OK"
        return (f"[STABLE] {subject} on {host}", f"{subject} has not changed state for {window}: now {now} ({state})")
    alert = Alert(measurement, event.level, incident.threshold, observation.levels)
    title, message = alert_title(alert, host), alert_message(alert, sample)
    if event.kind is EventKind.ESCALATED:
        title += f" (up from {event.previous_level})"
    elif event.kind is EventKind.DE_ESCALATED:
        title += f" (down from {event.previous_level})"
    elif event.kind is EventKind.REMINDER:
        title = f"{title} (still, for {lasted})"
        message += f". Active for {lasted}"
    return title, message
