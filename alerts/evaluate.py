"""One sample's observations through the incident lifecycle, against the state stored for its host."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from monitoring.incidents import TRANSITIONS, AlertSettings, Event, Incident, Observation, damp_flapping, step
from storage.incident_store import (
    Key,
    Stored,
    clear_flapping,
    delete_incident,
    load_incidents,
    save_incident,
    transitions_since,
)


def evaluate(
    connection: Connection,
    host: str,
    observations: list[Observation],
    now: datetime,
    settings: AlertSettings,
    stored: Stored | None = None,
) -> tuple[list[tuple[Event, Observation]], dict[Key, Incident]]:
    """Update the host's incidents (inside the caller's transaction); return the events to notify and the
    observed keys' incidents that are active (pending or firing) now. A key not observed this time (a
    collector failed, a disk was unmounted) keeps its state. `stored`: the host's incidents as load_incidents
    reads them, when the caller read them already in this transaction (the hub reads a group's hosts at once)."""
    active, flapping = stored if stored is not None else load_incidents(connection, host)
    raised: list[tuple[Event, Observation]] = []
    now_active: dict[Key, Incident] = {}
    for observation in observations:
        key = observation.key
        before = active.get(key)
        incident, events = step(before, observation, host, now, settings)
        flapping_since = flapping.get(key)
        if flapping_since is not None or any(event.kind in TRANSITIONS for event in events):
            since = now - timedelta(seconds=settings.flap_window_seconds)
            count = transitions_since(connection, host, key, since) + sum(e.kind in TRANSITIONS for e in events)
            incident, events, clear = damp_flapping(incident, events, flapping_since, count, settings)
            if clear:
                clear_flapping(connection, host, key)
        if incident is None:
            if before is not None and before.id is not None:
                delete_incident(connection, before.id)
        else:
            saved = save_incident(connection, incident)
            events = [event._replace(incident=saved) if event.incident is incident else event for event in events]
            if saved.active:
                now_active[key] = saved
        raised += [(event, observation) for event in events]
    return raised, now_active
