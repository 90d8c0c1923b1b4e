"""The hub's ingest: samples pushed by a host's agent (or a seed client) are stored, graded with the hub's
thresholds and moved through incidents and notifications exactly as a local monitoring run's are.

A push is one transaction under the host's row lock, so a replay can never store a sample twice: samples are
numbered in their agent's outbox and the hub keeps, per outbox, the highest number stored; a push repeated
after a lost answer, by a restarted agent or through another hub behind the same load balancer stores only what
is newer. A sample collected long before it arrives (an agent's backlog after an outage) is stored and graded,
and its incidents move, but what it raises is written as a record of the past, not delivered as news.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import Connection, RowMapping

from config.settings import Settings
from fleet.host_keys import key_hash
from monitoring.alert_text import format_duration
from monitoring.collectors.registry import figures_of
from monitoring.figures import Figures
from monitoring.forecasts import forecast_measurements
from monitoring.grading import Measurement, measurements
from monitoring.sample import Sample
from monitoring.wire import IncomingGap
from pipeline.monitor import record_events
from storage.database import db, write_transaction
from storage.ingest_store import (
    bind_fingerprint,
    lock_host_by_key,
    mark_stored_through,
    record_gaps,
    record_push,
    stored_through,
)
from storage.metrics_store import disk_usage_history, save_samples
from storage.sample_rows import sample_rows
from storage.types import utc_now

log = logging.getLogger("automation.ingest")


class IngestRefused(Exception):
    """A push the hub will not store; `status` is the HTTP status to answer, `detail` the one line why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class Push:
    """One push from any client, already translated into samples, oldest first. `seq` numbers a sample in the
    outbox `outbox_id` (None: the client keeps no outbox, so nothing can be recognised as a replay)."""

    source: str  # agent, coredotcloud, hicloud
    samples: Sequence[tuple[int | None, Sample]]
    fingerprint: str | None = None
    agent_version: str | None = None
    sent_at: float | None = None  # Unix seconds by the client's clock
    interval_seconds: float | None = None
    outbox_id: str | None = None
    gaps: Sequence[IncomingGap] = ()


@dataclass(frozen=True)
class IngestResult:
    host: str
    stored: int
    duplicates: int
    gaps_recorded: int
    notifications: int


FORECAST_EVERY_SECONDS = 300
UNKNOWN_KEY = "unknown or revoked host key; `main.py hosts add NAME` (or `hosts rotate NAME`) gives a host its key"


def ingest(settings: Settings, key: str, push: Push, received_at: datetime | None = None) -> IngestResult:
    """Store and grade the push's new samples for the host whose key this is; raises IngestRefused."""
    received_at = received_at or utc_now()
    with write_transaction(db.engine) as connection:
        host = lock_host_by_key(connection, key_hash(key))
        if host is None:
            raise IngestRefused(401, UNKNOWN_KEY)
        _check_fingerprint(connection, host, push.fingerprint)
        result, queued = _store(connection, settings, host, push, received_at)
    if queued and settings.notify.destinations:  # after the commit, as a local run does
        from alerts.delivery import deliver_due

        deliver_due(db.engine, settings.notify)
    return result


def _check_fingerprint(connection: Connection, host: RowMapping, fingerprint: str | None) -> None:
    """Bind the key to the first machine that uses it; refuse another machine (a cloned VM) using the same key."""
    if fingerprint is None:
        return
    if host["fingerprint"] is None:
        bind_fingerprint(connection, host["id"], fingerprint)
    elif host["fingerprint"] != fingerprint:
        raise IngestRefused(
            403,
            f"the key of host {host['name']} is bound to another machine; a cloned or new machine needs its own "
            f"host: run `main.py hosts add OTHER_NAME` on the hub and use that key (or `main.py hosts rotate "
            f"{host['name']}` if this machine replaces the old one)",
        )


def _store(
    connection: Connection, settings: Settings, host: RowMapping, push: Push, received_at: datetime
) -> tuple[IngestResult, bool]:
    name, skew_seconds = host["name"], _skew_seconds(push.sent_at, received_at)
    before = stored_through(connection, host["id"], push.outbox_id) if push.outbox_id else 0
    new = sorted(
        ((seq, sample) for seq, sample in push.samples if seq is None or seq > before),
        key=lambda pair: (pair[1].timestamp, pair[0] or 0),
    )
    live_after = received_at - timedelta(seconds=settings.fleet.live_within_seconds)
    for _, sample in new:
        sample.hostname = name
    figures = [figures_of(sample) for _, sample in new]
    sample_ids = save_samples(
        connection, [sample_rows(sample, each) for (_, sample), each in zip(new, figures, strict=True)]
    )
    notifications, queued = 0, False
    for index, ((_, sample), each, sample_id) in enumerate(zip(new, figures, sample_ids, strict=True)):
        taken_by_hub_clock = sample.timestamp - timedelta(seconds=skew_seconds)
        late = taken_by_hub_clock < live_after
        found = measurements(each)
        if index == len(new) - 1 and not late and _forecast_due(host, sample):
            found += _forecasts(connection, settings, sample, each)
        note = _late_note(received_at - taken_by_hub_clock) if late else None
        recorded = record_events(connection, sample, sample_id, found, settings, late_note=note)
        notifications += recorded.notification_count
        queued = queued or recorded.queued
    seqs = [seq for seq, _ in push.samples if seq is not None]
    if push.outbox_id and seqs and max(seqs) > before:
        mark_stored_through(connection, host["id"], push.outbox_id, max(seqs), before, received_at)
    gaps_recorded = (
        record_gaps(connection, host["id"], push.outbox_id, _gap_rows(push, received_at)) if push.outbox_id else 0
    )
    record_push(connection, host["id"], _push_values(push, host, new, skew_seconds, received_at))
    if gaps_recorded:
        log.warning("host %s: its agent reported %d gap(s) of samples it had to drop", name, gaps_recorded)
    stored = len(new)
    return IngestResult(name, stored, len(push.samples) - stored, gaps_recorded, notifications), queued


def _skew_seconds(sent_at: float | None, received_at: datetime) -> float:
    """The client's clock minus the hub's (the time on the wire counts as skew: milliseconds on a LAN)."""
    return 0.0 if sent_at is None else sent_at - received_at.timestamp()


def _late_note(delay: timedelta) -> str:
    return f"backfilled: collected {format_duration(delay.total_seconds())} before it reached the hub"


def _forecast_due(host: RowMapping, sample: Sample) -> bool:
    """Whether the host's disk-full forecast is due: once per FORECAST_EVERY_SECONDS of its samples (the fit
    reads ALERT_DISK_PREDICT_HOURS of its disk history, thousands of rows at 30 s; a local run forecasts every
    5 minutes)."""
    previous = host["last_collected_at"]
    return previous is None or _slot(sample.timestamp) != _slot(previous)


def _slot(moment: datetime) -> int:
    return int(moment.timestamp() // FORECAST_EVERY_SECONDS)


def _forecasts(connection: Connection, settings: Settings, sample: Sample, figures: Figures) -> list[Measurement]:
    if settings.alerts.disk_full_within_hours <= 0:
        return []
    since = sample.timestamp - timedelta(hours=settings.alerts.disk_predict_hours)
    history = disk_usage_history(connection, sample.hostname, since, sample.timestamp)
    return forecast_measurements(figures, sample.timestamp, history, settings.alerts)


def _gap_rows(push: Push, received_at: datetime) -> list[dict[str, object]]:
    return [
        {
            "first_seq": gap.first_seq,
            "last_seq": gap.last_seq,
            "samples": gap.samples,
            "first_collected_at": datetime.fromtimestamp(gap.first_collected_at, timezone.utc),
            "last_collected_at": datetime.fromtimestamp(gap.last_collected_at, timezone.utc),
            "reason": gap.reason[:255],
            "received_at": received_at,
        }
        for gap in push.gaps
    ]


def _push_values(
    push: Push, host: RowMapping, new: list[tuple[int | None, Sample]], skew_seconds: float, received_at: datetime
) -> dict[str, object]:
    values: dict[str, object] = {"last_seen_at": received_at, "source": push.source}
    if push.sent_at is not None:
        values["clock_skew_seconds"] = round(skew_seconds, 3)
    if push.agent_version is not None:
        values["agent_version"] = push.agent_version
    if push.interval_seconds is not None:
        values["interval_seconds"] = push.interval_seconds
    newest = max((sample.timestamp for _, sample in new), default=None)
    if newest is not None and (host["last_collected_at"] is None or newest > host["last_collected_at"]):
        values["last_collected_at"] = newest
    return values
