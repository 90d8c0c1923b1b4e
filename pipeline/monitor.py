"""One monitoring run of this machine: collect -> save -> grade -> incidents -> notify. The orchestration,
without any printing (pipeline.command prints the result)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from alerts.evaluate import evaluate
from alerts.notifications import event_values
from alerts.silences import silenced_by
from config.settings import Settings
from monitoring.collectors.registry import collect_sample, figures_of, run_collectors
from monitoring.figures import Figures
from monitoring.forecasts import forecast_measurements
from monitoring.grading import Alert, Measurement, grade, measurement_levels, measurements
from monitoring.incidents import Incident, Observation, current_alerts
from monitoring.levels import Level
from monitoring.rates import CounterSnapshot
from monitoring.sample import Sample
from monitoring.snapshot import live_snapshot
from storage.database import db, sqlite_file, write_transaction
from storage.incident_store import Stored, active_silence_patterns, load_incidents
from storage.metrics_store import disk_usage_history, insert_notification, latest_counters, save_sample
from storage.sample_rows import baseline_values, sample_rows
from storage.schema import SCHEMA_REVISION, current_revision, init_database

# The first run on a host has no stored counters to compute rates against: it reads them twice this far apart.
FIRST_RUN_WINDOW_SECONDS = 0.25

log = logging.getLogger("automation.monitor")


class MonitorResult(NamedTuple):
    """A run's outcome. `grades` are the measurements graded against their levels; `alerts` are what the run
    alerts on: once saved, one per active incident (pending ones included, a firing one at the level its
    hysteresis holds), which `incidents` holds by (metric, resource); without saving, the grades."""

    sample: Sample
    figures: Figures
    measurements: tuple[Measurement, ...]
    grades: tuple[Alert, ...]
    alerts: tuple[Alert, ...]
    sample_id: int | None = None
    notification_count: int = 0
    incidents: Mapping[tuple[str, str], Incident] = MappingProxyType({})


class StoredState(NamedTuple):
    """What a run reads before collecting: the previous sample's counters and the disk usage history."""

    previous: CounterSnapshot | None = None
    disk_history: Mapping[str, list[tuple[datetime, float]]] = MappingProxyType({})


class _Saved(NamedTuple):
    sample_id: int
    incidents: dict[tuple[str, str], Incident]
    alerts: list[Alert]
    notification_count: int


def monitor_once(
    settings: Settings,
    save: bool = True,
    collectors: dict[str, Callable[[Any], Any]] | None = None,
    job_execution_id: int | None = None,
) -> MonitorResult:
    """Collect a sample, compute its rates and disk forecasts, grade it and (unless `save` is off) store it
    with its incidents; `job_execution_id` ties the notifications to the scheduler's run that made them."""
    log.info("System Monitoring Started")
    stored = _stored_state(settings, create=save)
    sample = collect_sample(settings, _rates_baseline(settings, stored.previous), collectors)
    figures = figures_of(sample)
    found = measurements(figures) + forecast_measurements(
        figures, sample.timestamp, stored.disk_history, settings.alerts
    )
    grades = grade(found, settings.thresholds, sample.hostname)
    log.debug(
        "Metrics collected: %s",
        ", ".join(
            f"{measured.metric}{'@' + measured.resource if measured.resource else ''}={measured.value:g}"
            for measured in found
        ),
    )
    result = MonitorResult(sample, figures, tuple(found), tuple(grades), tuple(grades))
    if save:
        saved = _save(sample, figures, found, settings, job_execution_id)
        result = result._replace(
            sample_id=saved.sample_id,
            incidents=MappingProxyType(saved.incidents),
            alerts=tuple(saved.alerts),
            notification_count=saved.notification_count,
        )
        log.debug("Metrics saved to database (id %s, %d notification(s))", result.sample_id, result.notification_count)
    for alert in result.alerts:
        log.warning(
            "%s alert: %s=%.2f (threshold %g)%s",
            alert.level,
            alert.metric,
            alert.value,
            alert.threshold,
            f" on {alert.resource}" if alert.resource else "",
        )
    log.info("System Monitoring Completed")
    return result


def warm_up(settings: Settings) -> None:
    """Do once, in a process that will run the monitor many times (the scheduler's pre-forked worker), what
    each run would otherwise do first: import what runs import lazily, read the collectors once, connect to the
    database (its dialect initialised) and compile every statement a run executes: the reads (counters, disk
    history, incidents, silences) and the sample's inserts (a sample inserted and rolled back), so SQLAlchemy's
    statement cache on the engine holds them. Nothing is kept; the engine is disposed of, so no connection
    crosses a fork."""
    run_collectors(settings)
    db.bind(settings.database_url, settings.database_busy_timeout_seconds)
    try:
        with db.engine.connect() as connection:
            current = current_revision(connection) == SCHEMA_REVISION
        if not current:
            return  # the first run creates or upgrades the schema; it has nothing to warm yet
        stored = read_stored(settings)
        sample = collect_sample(settings, stored.previous or live_snapshot(settings))
        with db.engine.connect() as connection:
            load_incidents(connection, settings.hostname)
            active_silence_patterns(connection, datetime.now(timezone.utc))
            connection.rollback()
            with connection.begin() as transaction:
                save_sample(connection, sample_rows(sample), [], baseline_values(sample))
                transaction.rollback()
    finally:
        db.engine.dispose()


def _rates_baseline(settings: Settings, previous: CounterSnapshot | None) -> CounterSnapshot:
    """The stored counters of this host's previous sample, or (first run, or none usable) counters read now
    and a short wait: the one place that sleeps."""
    if previous is not None and previous.has_counters:
        return previous
    previous = live_snapshot(settings)
    time.sleep(FIRST_RUN_WINDOW_SECONDS)
    return previous


def _stored_state(settings: Settings, create: bool) -> StoredState:
    """The host's stored state. With `create` off nothing is created or migrated: only a database that
    already exists at the current schema is read, and one that cannot be read is skipped."""
    file = sqlite_file(settings.database_url)
    if not create and file is not None and not file.exists():
        return StoredState()
    db.bind(settings.database_url, settings.database_busy_timeout_seconds)
    if create:
        init_database()
        return read_stored(settings)
    try:
        return read_stored(settings, require_current_schema=True)
    except SQLAlchemyError as error:
        log.warning("previous sample not readable (%s); sampling rates over a short window", error.__class__.__name__)
        return StoredState()


def read_stored(settings: Settings, require_current_schema: bool = False) -> StoredState:
    """The newest sample's counters, and the disk usage of the last ALERT_DISK_PREDICT_HOURS when forecasting."""
    forecasting = settings.alerts.disk_full_within_hours > 0 and "disk" not in settings.disabled_collectors
    with db.engine.connect() as connection:
        if require_current_schema and current_revision(connection) != SCHEMA_REVISION:
            return StoredState()
        now = datetime.now(timezone.utc)
        stored = latest_counters(
            connection,
            settings.hostname,
            not_after=now,
            restart_window_seconds=settings.container_restart_window_seconds,
        )
        since = now - timedelta(hours=settings.alerts.disk_predict_hours)
        history = disk_usage_history(connection, settings.hostname, since, now) if forecasting else {}
    return StoredState(stored.snapshot() if stored is not None else None, history)


def observations(found: list[Measurement], settings: Settings, host: str) -> list[Observation]:
    """Each measurement of `host` with the levels that apply to it and how long its breach must last."""
    return [
        Observation(
            measurement,
            measurement_levels(measurement, settings.thresholds, host),
            settings.alerts.for_seconds[measurement.metric],
        )
        for measurement in found
    ]


def _save(
    sample: Sample, figures: Figures, found: list[Measurement], settings: Settings, job_execution_id: int | None
) -> _Saved:
    """The sample and what it moves, in one transaction (IMMEDIATE on SQLite: one run at a time reads and writes
    the incident state); then whatever deliveries are due are sent, within ALERT_DELIVERY_TIMEOUT_SECONDS."""
    with write_transaction(db.engine) as connection:
        recorded = record_sample(connection, sample, figures, found, settings, job_execution_id)
    if settings.notify.destinations:  # after the commit: the rows are the record even if sending fails
        from alerts.delivery import deliver_due

        deliver_due(db.engine, settings.notify)
    return _Saved(recorded.sample_id, recorded.incidents, recorded.alerts, recorded.notification_count)


class Recorded(NamedTuple):
    """What storing one sample did: its id, the observed keys' active incidents, what they alert on, how many
    notifications it wrote and whether deliveries were queued for them."""

    sample_id: int
    incidents: dict[tuple[str, str], Incident]
    alerts: list[Alert]
    notification_count: int
    queued: bool


def record_sample(
    connection: Connection,
    sample: Sample,
    figures: Figures,
    found: list[Measurement],
    settings: Settings,
    job_execution_id: int | None = None,
) -> Recorded:
    """Store the sample, its details and (when the sample carries one) the process baseline, then record what
    its measurements move (record_events), in the caller's transaction."""
    baseline = baseline_values(sample) if sample.processes is not None and sample.processes.table else None
    sample_id = save_sample(connection, sample_rows(sample, figures), [], baseline)
    return record_events(connection, sample, sample_id, found, settings, job_execution_id)


def record_events(
    connection: Connection,
    sample: Sample,
    sample_id: int,
    found: list[Measurement],
    settings: Settings,
    job_execution_id: int | None = None,
    late_note: str | None = None,
    stored: Stored | None = None,
) -> Recorded:
    """Move the incidents a stored sample's measurements touch; write their notifications and queue their
    deliveries, in the caller's transaction. With `late_note` (a sample that arrives long after it was taken: an
    agent's backlog) the notifications are written with the note appended and nothing is queued: an alert of the
    past is a record, not news. `stored`: the host's incidents, already read in this transaction (evaluate)."""
    observed = observations(found, settings, sample.hostname)
    raised, incidents = evaluate(connection, sample.hostname, observed, sample.timestamp, settings.alerts, stored)
    silences = active_silence_patterns(connection, sample.timestamp) if raised else []
    written = []
    for event, observation in sorted(raised, key=lambda item: item[0].level is not Level.CRITICAL):
        silenced = silenced_by(silences, sample.hostname, *observation.key)
        values = event_values(event, observation, sample, settings.alerts, job_execution_id, silenced)
        if late_note:
            values["message"] = f"{values['message']} ({late_note})"
        written.append(
            (insert_notification(connection, {**values, "system_metric_id": sample_id}), event.level, silenced)
        )
    queued = bool(written) and late_note is None and bool(settings.notify.destinations)
    if queued:
        from alerts.delivery import queue_deliveries

        queue_deliveries(connection, written, settings.notify, sample.timestamp)
    return Recorded(sample_id, incidents, current_alerts(observed, incidents), len(raised), queued)
