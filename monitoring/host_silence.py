"""Silent hosts, as pure functions: which of the fleet's hosts stopped pushing, what the hub's check observes for
each (an Observation that goes through the usual incident lifecycle), when many silent at once are one fleet
incident instead, and the words of their notifications. No I/O: fleet.silent_hosts reads the hosts, runs the
plan through alerts.evaluate and writes the notifications.

A host's observation is `host_silent`: the seconds since its last push, graded against its own silent delays
(HOST_SILENT_AFTER and HOST_SILENT_CRITICAL_AFTER times its interval), so it fires as WARNING, escalates to
CRITICAL and resolves once it pushes again. The fleet's is `hosts_silent`: how many hosts are silent at once.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import NamedTuple

from monitoring.alert_text import format_span
from monitoring.grading import Measurement
from monitoring.incidents import AlertSettings, Event, EventKind, Observation
from monitoring.levels import Levels

HOST_SILENT = "host_silent"
HOSTS_SILENT = "hosts_silent"
FLEET_HOST = "fleet"  # the fleet incident's host: its metric (hosts_silent) is no host's
PRODUCES = (HOST_SILENT, HOSTS_SILENT)
NAMES_IN_MESSAGE = 10
# Backfill that starts and ends within this many intervals of the outage's edges covers it.
COVERED_WITHIN_INTERVALS = 2


class WatchedHost(NamedTuple):
    """A host that has pushed at least once and is not in maintenance."""

    name: str
    last_seen_at: datetime  # its last push, by the hub's clock
    interval_seconds: float
    warning_seconds: float
    critical_seconds: float
    catching_up: bool = False  # still delivering a backlog: its newest sample is older than its silent delay

    def silent_seconds(self, now: datetime) -> float:
        return max((now - self.last_seen_at).total_seconds(), 0.0)

    def silent(self, now: datetime) -> bool:
        return self.silent_seconds(now) > self.warning_seconds

    def observation(self, now: datetime) -> Observation:
        return Observation(
            Measurement(HOST_SILENT, self.silent_seconds(now)), Levels(self.warning_seconds, self.critical_seconds), 0
        )


class Plan(NamedTuple):
    """What one check observes: (host, observation) pairs, and the fleet's observation (None: not this time)."""

    observed: list[tuple[str, Observation]]
    silent: list[WatchedHost]
    fleet: Observation | None


def fleet_threshold(watched: int, min_hosts: int, min_percent: float) -> int | None:
    """How many silent hosts make one fleet incident: HOST_SILENT_FLEET_MIN_HOSTS and at least
    HOST_SILENT_FLEET_MIN_PERCENT of the watched hosts; None when fleet incidents are off."""
    if min_hosts == 0:
        return None
    return max(min_hosts, math.ceil(watched * min_percent / 100))


def plan_check(
    hosts: list[WatchedHost],
    active: set[str],
    now: datetime,
    grace_until: datetime | None,
    min_hosts: int,
    min_percent: float,
) -> Plan:
    """The observations of one check. `active` names the hosts with an active silent-host incident.

    - A silent host is observed (fires, escalates, reminds), except during a grace period after the hubs were
      down, and while the fleet incident stands for it: then it keeps its state.
    - A host that reports again is observed only when it has an active incident (which resolves), and once its
      backlog is delivered, so the resolution can say what the backfill showed.
    - The fleet is observed outside grace periods: its incident fires from `fleet_threshold` silent hosts (as
      CRITICAL when that many are past their critical delay) and resolves below it; the hosts still silent then
      get incidents of their own.
    """
    in_grace = grace_until is not None and now < grace_until
    silent = [host for host in hosts if host.silent(now)]
    threshold = fleet_threshold(len(hosts), min_hosts, min_percent)
    fleet_wide = threshold is not None and len(silent) >= threshold
    observed = []
    for host in hosts:
        if host.silent(now):
            if in_grace or fleet_wide:
                continue
        elif host.catching_up or host.name not in active:
            continue
        observed.append((host.name, host.observation(now)))
    fleet = None
    if threshold is not None and not in_grace:
        critical = sum(host.silent_seconds(now) > host.critical_seconds for host in silent) >= threshold
        names = [host.name for host in sorted(silent, key=lambda host: host.last_seen_at)]
        more = f" and {len(names) - NAMES_IN_MESSAGE} more" if len(names) > NAMES_IN_MESSAGE else ""
        shown = ", ".join(names[:NAMES_IN_MESSAGE]) + more
        fleet = Observation(  # for its words: `display` is how many hosts are watched, `detail` the silent ones
            Measurement(HOSTS_SILENT, float(len(silent)), display=f"{len(hosts)}", detail=shown),
            Levels(threshold - 1, threshold - 1 if critical else None),  # strictly above: `threshold` or more
            0,
        )
    return Plan(observed, silent, fleet)


class Backfill(NamedTuple):
    """The host's samples collected inside its outage, delivered since."""

    samples: int
    first_at: datetime | None
    last_at: datetime | None


def outage_of(event: Event, now: datetime) -> tuple[datetime, datetime]:
    """(last push before, first push after) of a resolved host's outage: its incident began `min_value` seconds
    after its last push; the value it resolves with is the age of the push that ended it (to within a check)."""
    incident = event.incident
    start = incident.started_at - timedelta(seconds=incident.min_value)
    return start, now - timedelta(seconds=incident.last_value)


def backfill_words(backfill: Backfill, start: datetime, end: datetime, interval_seconds: float) -> str:
    if not backfill.samples or backfill.first_at is None or backfill.last_at is None:
        return "no samples from the outage"
    margin = timedelta(seconds=COVERED_WITHIN_INTERVALS * interval_seconds)
    if backfill.first_at - start <= margin and end - backfill.last_at <= margin:
        return f"backfill shows it was up and collecting throughout ({backfill.samples} samples)"
    return (
        f"backfill has {backfill.samples} samples from part of it ({backfill.first_at:%H:%M:%S} to "
        f"{backfill.last_at:%H:%M:%S} UTC)"
    )


def host_words(
    event: Event, observation: Observation, now: datetime, settings: AlertSettings, backfill: str | None
) -> tuple[str, str]:
    """Title and message of a host's silent-host event; `backfill` (the resolution's) from backfill_words."""
    host, value, levels = event.incident.host, observation.measurement.value, observation.levels
    if event.kind is EventKind.RESOLVED:
        start, end = outage_of(event, now)
        return (
            f"[RESOLVED] {host} reports again",
            f"{host} reports again after {format_span((end - start).total_seconds())} without a push "
            f"({start:%Y-%m-%d %H:%M:%S} to {end:%H:%M:%S} UTC); {backfill or 'no samples from the outage'}",
        )
    if event.kind in (EventKind.FLAPPING, EventKind.STABLE):
        return _flap_words(event, f"{host} silent", settings)
    last_push = now - timedelta(seconds=value)
    message = (
        f"{host} has not reported for {format_span(value)} (silent after {format_span(levels.warning or 0)}, "
        f"critical after {format_span(levels.critical or 0)}); last push {last_push:%Y-%m-%d %H:%M:%S} UTC"
    )
    return f"[{event.level}] {host} silent for {format_span(value)}{_change(event, now)}", message


def fleet_words(event: Event, observation: Observation, now: datetime, settings: AlertSettings) -> tuple[str, str]:
    """Title and message of a fleet incident's event: how many hosts, of how many, and which."""
    measurement = observation.measurement
    count, watched, rule = int(measurement.value), measurement.display, int(observation.levels.warning or 0) + 1
    if event.kind is EventKind.RESOLVED:
        lasted = format_span((now - event.incident.since).total_seconds())
        still = f": {measurement.detail}; each has an incident of its own now" if count else ""
        return (
            "[RESOLVED] the fleet reports again",
            f"{count} of {watched} hosts silent now, fewer than {rule}, after {lasted}; at most "
            f"{int(event.incident.max_value)} were silent at once{still}",
        )
    if event.kind in (EventKind.FLAPPING, EventKind.STABLE):
        return _flap_words(event, "the fleet's silent hosts", settings)
    return (
        f"[{event.level}] {count} of {watched} hosts silent{_change(event, now)}",
        f"{count} of {watched} hosts have not reported for their silent delay (one fleet incident from {rule} "
        f"silent hosts instead of one each): {measurement.detail}",
    )


def _change(event: Event, now: datetime) -> str:
    if event.kind is EventKind.ESCALATED:
        return f" (up from {event.previous_level})"
    if event.kind is EventKind.DE_ESCALATED:
        return f" (down from {event.previous_level})"
    if event.kind is EventKind.REMINDER:
        return f" (still, for {format_span((now - event.incident.since).total_seconds())})"
    return ""


def _flap_words(event: Event, subject: str, settings: AlertSettings) -> tuple[str, str]:
    window = format_span(settings.flap_window_seconds)
    if event.kind is EventKind.FLAPPING:
        return (
            f"[FLAPPING] {subject}",
            f"{subject}: changed between silent and reporting more than {settings.flap_count} times within {window}; "
            f"its notifications pause until it is stable for {window}",
        )
    state = event.incident.level if event.incident.active and event.incident.level else "OK"
    return f"[STABLE] {subject}", f"{subject}: no change for {window}: now {state}"
