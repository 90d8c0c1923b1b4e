"""The hub's silent-host check: every HOST_CHECK_INTERVAL_SECONDS each dashboard server (with ingest on) looks
for hosts that stopped pushing and moves their incidents through the same lifecycle, notifications and deliveries
as a monitoring run's (monitoring.host_silence says what is observed and in which words).

Hubs sharing one database take turns: a check is one transaction that first locks the fleet_state row, so each
incident is opened, escalated and resolved once. The row's checked_at is the last check by any hub; when no hub
checked for HUB_DOWN_AFTER_CHECKS intervals (the hubs were down, and no push could be taken), hosts get a grace
period of their silent delay (grace_until) before they count as silent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection, Engine

from alerts.evaluate import evaluate
from alerts.notifications import CHANNEL, TITLE_MAX_LENGTH
from alerts.silences import silenced_by
from config.fleet_settings import FleetSettings
from config.settings import Settings
from monitoring.host_silence import (
    FLEET_HOST,
    HOST_SILENT,
    Plan,
    WatchedHost,
    backfill_words,
    fleet_words,
    host_words,
    outage_of,
    plan_check,
)
from monitoring.incidents import Event, EventKind, Observation
from monitoring.levels import Level
from storage.database import database_failure, write_transaction
from storage.fleet_store import (
    FleetState,
    hosts_with_active,
    lock_fleet_state,
    samples_between,
    save_fleet_state,
    watched_hosts,
)
from storage.incident_store import active_silence_patterns
from storage.metrics_store import insert_notification
from storage.types import utc_now

HUB_DOWN_AFTER_CHECKS = 3
STOP_TIMEOUT_SECONDS = 10.0
log = logging.getLogger("automation.fleet")


class CheckReport(NamedTuple):
    watched: int  # hosts that have pushed and are not in maintenance
    silent: int
    notifications: int
    grace_until: datetime | None


def check_silent_hosts(engine: Engine, settings: Settings, now: datetime | None = None) -> CheckReport:
    """One check at `now` (the hub's clock); then the deliveries that are due are sent, after the commit."""
    now = now or utc_now()
    fleet = settings.fleet
    with write_transaction(engine) as connection:
        state = lock_fleet_state(connection)
        hosts = [_watched(row, fleet) for row in watched_hosts(connection)]
        grace_until = state.grace_until
        if state.checked_at is None or now - state.checked_at > timedelta(
            seconds=HUB_DOWN_AFTER_CHECKS * fleet.check_interval_seconds
        ):
            delay = max((host.warning_seconds for host in hosts), default=0.0)  # no host: nothing to spare
            grace_until = max(grace_until or now, now + timedelta(seconds=delay))
            if hosts:
                log.info(
                    "no hub checked for silent hosts since %s: none counts as silent before %s",
                    state.checked_at,
                    grace_until,
                )
        save_fleet_state(connection, FleetState(max(now, state.checked_at or now), grace_until))
        plan = plan_check(
            hosts,
            hosts_with_active(connection, HOST_SILENT),
            now,
            grace_until,
            fleet.fleet_min_hosts,
            fleet.fleet_min_percent,
        )
        written = _incidents(connection, plan, {host.name: host for host in hosts}, settings, now)
        if written and settings.notify.destinations:
            from alerts.delivery import queue_deliveries

            queue_deliveries(connection, written, settings.notify, now)
    if written and settings.notify.destinations:  # after the commit: the rows are the record even if sending fails
        from alerts.delivery import deliver_due

        deliver_due(engine, settings.notify)
    return CheckReport(len(hosts), len(plan.silent), len(written), grace_until)


def _watched(row: dict[str, Any], fleet: FleetSettings) -> WatchedHost:
    warning, critical = fleet.silent_after_seconds(row["interval_seconds"])
    newest = row["last_collected_at"]
    if newest is not None:  # the agent's clock, brought to the hub's
        newest -= timedelta(seconds=row["clock_skew_seconds"] or 0)
    catching_up = newest is not None and (row["last_seen_at"] - newest).total_seconds() > warning
    interval = row["interval_seconds"] or fleet.default_interval_seconds
    return WatchedHost(row["name"], row["last_seen_at"], interval, warning, critical, catching_up)


def _incidents(
    connection: Connection, plan: Plan, hosts: dict[str, WatchedHost], settings: Settings, now: datetime
) -> list[tuple[int, str, bool]]:
    """Each observation through the incident lifecycle; a notifications row per event, (id, level, silenced)."""
    raised: list[tuple[Event, Observation, tuple[str, str]]] = []
    for name, observation in plan.observed:
        for event, observed in evaluate(connection, name, [observation], now, settings.alerts)[0]:
            backfill = None
            if event.kind is EventKind.RESOLVED:
                start, end = outage_of(event, now)
                interval = hosts[name].interval_seconds  # the last one's sample is the push that ended it
                found = samples_between(connection, name, start, end - timedelta(seconds=interval))
                backfill = backfill_words(found, start, end, interval)
            raised.append((event, observed, host_words(event, observed, now, settings.alerts, backfill)))
    if plan.fleet is not None:
        for event, observed in evaluate(connection, FLEET_HOST, [plan.fleet], now, settings.alerts)[0]:
            raised.append((event, observed, fleet_words(event, observed, now, settings.alerts)))
    silences = active_silence_patterns(connection, now) if raised else []
    written = []
    for event, observed, (title, message) in sorted(raised, key=lambda item: item[0].level is not Level.CRITICAL):
        incident = event.incident
        silenced = silenced_by(silences, incident.host, incident.metric, incident.resource)
        values = dict(
            title=title[:TITLE_MAX_LENGTH],
            message=message,
            level=event.level,
            channel=CHANNEL,
            sent_at=now,
            success=True,
            host=incident.host,
            metric=incident.metric,
            value=observed.measurement.value,
            threshold=incident.threshold,
            incident_id=incident.id,
            event=event.kind,
            silenced=silenced,
        )
        written.append((insert_notification(connection, values), str(event.level), silenced))
    return written


class SilentHostWatch:
    """The check on a thread of its own, every HOST_CHECK_INTERVAL_SECONDS while the dashboard serves (the
    first at once). A failed check is one logged line, and the next one tries again."""

    def __init__(self, engine_of: Callable[[], Engine], settings: Settings) -> None:
        self._engine_of = engine_of  # called per check: the process's engine, bound when the check runs
        self._settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="silent-hosts", daemon=True)
        self._failure: str | None = None

    def start(self) -> None:
        """Start watching, unless this hub takes no pushes (INGEST_ENABLED=false)."""
        if self._settings.fleet.ingest_enabled:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT_SECONDS)

    def _loop(self) -> None:
        while True:
            self._check()
            if self._stop.wait(self._settings.fleet.check_interval_seconds):
                return

    def _check(self) -> None:
        try:
            check_silent_hosts(self._engine_of(), self._settings)
        except Exception as error:  # one line per new failure; the next check tries again
            reason = database_failure(error) or f"{type(error).__name__}: {error}"
            if reason != self._failure:
                log.warning("silent-host check failed: %s", reason, exc_info=log.isEnabledFor(logging.DEBUG))
            self._failure = reason
        else:
            if self._failure is not None:
                log.info("silent-host check works again")
            self._failure = None
