"""The hub's ingest: samples pushed by a host's agent (or a seed client) are stored, graded with the hub's
thresholds and moved through incidents and notifications exactly as a local monitoring run's are.

A push is stored in one transaction under the host's row lock, so a replay can never store a sample twice:
samples are numbered in their agent's outbox and the hub keeps, per outbox, the highest number stored; a push
repeated after a lost answer, by a restarted agent or through another hub behind the same load balancer stores
only what is newer. The route writes the pushes that arrive together as one group (fleet.ingest_writer): one
transaction and one statement per table for all of them, each host at most once. A sample collected long before
it arrives (an agent's backlog after an outage) is stored and graded, and its incidents move, but what it raises
is written as a record of the past, not delivered as news.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from sqlalchemy.engine import Connection, RowMapping

from config.settings import Settings
from fleet.host_keys import key_hash
from monitoring.alert_text import format_duration
from monitoring.collectors.registry import figures_of
from monitoring.figures import Figures
from monitoring.forecasts import forecast_measurements
from monitoring.grading import Measurement, measurements
from monitoring.levels import MetricThresholds
from monitoring.sample import Sample
from monitoring.wire import Batch, IncomingGap
from pipeline.monitor import record_events
from storage.database import db, write_transaction
from storage.incident_store import Stored, load_incidents_of
from storage.ingest_store import (
    PUSH_COLUMNS,
    lock_hosts_by_key,
    record_gaps,
    record_marks_and_pushes,
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


def agent_push(batch: Batch) -> Push:
    """The push of an agent's batch (monitoring.wire), as the ingest route hands it to the writer."""
    return Push(
        source="agent",
        samples=[(incoming.seq, incoming.sample) for incoming in batch.samples],
        fingerprint=batch.fingerprint,
        agent_version=batch.agent_version,
        sent_at=batch.sent_at,
        interval_seconds=batch.interval_seconds,
        outbox_id=batch.outbox_id,
        gaps=batch.gaps,
    )


@dataclass(frozen=True)
class IngestResult:
    host: str
    stored: int
    duplicates: int
    gaps_recorded: int
    notifications: int


class Pending(NamedTuple):
    """A push on its way into a group: the settings it is graded with, its host's key, when it arrived, and
    where to read the hub's levels as they are when the group is written (`current_levels`, e.g. from .env
    edited since the start), else the settings' own."""

    settings: Settings
    key: str
    push: Push
    received_at: datetime
    current_levels: Callable[[], dict[str, MetricThresholds]] | None = None


class Done(NamedTuple):
    """What a group did with one push: its result or why it was refused; `deliver`: the settings to send the
    deliveries it queued with (deliver_due, after the commit, before the push is answered), else None."""

    outcome: IngestResult | IngestRefused
    deliver: Settings | None = None


class _Accepted(NamedTuple):
    position: int  # in the group
    pending: Pending
    host: RowMapping
    before: int  # the outbox's mark when the push arrived (0: nothing of it stored)
    known_outbox: bool
    new: list[tuple[int | None, Sample]]


FORECAST_EVERY_SECONDS = 300
UNKNOWN_KEY = "unknown or revoked host key; `main.py hosts add NAME` (or `hosts rotate NAME`) gives a host its key"


def ingest(settings: Settings, key: str, push: Push, received_at: datetime | None = None) -> IngestResult:
    """Store and grade the push's new samples for the host whose key this is; raises IngestRefused."""
    done = ingest_group([Pending(settings, key, push, received_at or utc_now())])[0]
    deliver(done.deliver)
    if isinstance(done.outcome, IngestRefused):
        raise done.outcome
    return done.outcome


def deliver(settings: Settings | None) -> None:
    """Send the deliveries due (after the commit, as a local run does); nothing for None."""
    if settings is not None:
        from alerts.delivery import deliver_due

        deliver_due(db.engine, settings.notify)


def ingest_group(group: Sequence[Pending]) -> list[Done]:
    """Store and grade a group of pushes, of different hosts (one key at most once), in one transaction: the
    hosts locked, their outbox marks, their samples and their incidents read or written once per group, not
    once per push. A refused push writes nothing and does not stop the others."""
    group = _with_current_levels(group)
    hashes = [key_hash(pending.key) for pending in group]
    assert len(set(hashes)) == len(hashes), "a key twice in one group"
    with write_transaction(db.engine) as connection:
        hosts = lock_hosts_by_key(connection, hashes)
        done: list[Done | None] = [None] * len(group)
        found: list[tuple[int, Pending, RowMapping]] = []
        for index, (pending, hashed) in enumerate(zip(group, hashes, strict=True)):
            host = hosts.get(hashed)
            refused = _refusal(host, pending.push.fingerprint)
            if refused is not None:
                done[index] = Done(refused)
            else:
                assert host is not None
                found.append((index, pending, host))
        accepted = _new_samples(connection, found)
        for item, each in zip(accepted, _store(connection, accepted), strict=True):
            done[item.position] = each
    return [each for each in done if each is not None]


def _with_current_levels(group: Sequence[Pending]) -> list[Pending]:
    """Each push with the levels its `current_levels` gives now, read once per group: a stat of .env per push
    would hand the hub's one lock (the GIL) back and forth once more per push."""
    read: dict[Callable[[], dict[str, MetricThresholds]], dict[str, MetricThresholds]] = {}
    graded = []
    for pending in group:
        if pending.current_levels is not None:
            if pending.current_levels not in read:
                read[pending.current_levels] = pending.current_levels()
            thresholds = read[pending.current_levels]
            pending = pending._replace(settings=pending.settings._replace(thresholds=thresholds))
        graded.append(pending)
    return graded


def _refusal(host: RowMapping | None, fingerprint: str | None) -> IngestRefused | None:
    """Why a push is refused before anything is written: an unknown key, or a key bound to another machine (a
    cloned VM using it); the first machine that uses a key is bound to it (_push_values)."""
    if host is None:
        return IngestRefused(401, UNKNOWN_KEY)
    if fingerprint is None or host["fingerprint"] in (None, fingerprint):
        return None
    return IngestRefused(
        403,
        f"the key of host {host['name']} is bound to another machine; a cloned or new machine needs its own "
        f"host: run `main.py hosts add OTHER_NAME` on the hub and use that key (or `main.py hosts rotate "
        f"{host['name']}` if this machine replaces the old one)",
    )


def _new_samples(connection: Connection, found: list[tuple[int, Pending, RowMapping]]) -> list[_Accepted]:
    """Each push with what it holds that its outbox's mark says is not stored yet, by collection time."""
    marks = stored_through(
        connection, [(host["id"], pending.push.outbox_id) for _, pending, host in found if pending.push.outbox_id]
    )
    accepted = []
    for index, pending, host in found:
        outbox = (host["id"], pending.push.outbox_id or "")
        before = marks.get(outbox, 0)
        new = sorted(
            ((seq, sample) for seq, sample in pending.push.samples if seq is None or seq > before),
            key=lambda pair: (pair[1].timestamp, pair[0] or 0),
        )
        for _, sample in new:
            sample.hostname = host["name"]
        accepted.append(_Accepted(index, pending, host, before, outbox in marks, new))
    return accepted


def _store(connection: Connection, accepted: list[_Accepted]) -> list[Done]:
    """The group's new samples stored at once, then each push's graded and its host's row and marks written."""
    if not accepted:
        return []
    figures = [[figures_of(sample) for _, sample in item.new] for item in accepted]
    rows = [
        sample_rows(sample, each)
        for item, many in zip(accepted, figures, strict=True)
        for (_, sample), each in zip(item.new, many, strict=True)
    ]
    sample_ids = iter(save_samples(connection, rows))
    incidents = load_incidents_of(connection, {item.host["name"] for item in accepted})
    done, marks, pushes = [], [], []
    for item, many in zip(accepted, figures, strict=True):
        push, host, received_at = item.pending.push, item.host, item.pending.received_at
        ids = [next(sample_ids) for _ in item.new]
        notifications, queued = _grade(connection, item, many, ids, incidents[host["name"]])
        seqs = [seq for seq, _ in push.samples if seq is not None]
        if push.outbox_id and seqs and max(seqs) > item.before:
            marks.append(
                {
                    "host_id": host["id"],
                    "outbox_id": push.outbox_id,
                    "last_seq": max(seqs),
                    "known": item.known_outbox,
                    "updated_at": received_at,
                }
            )
        gaps_recorded = (
            record_gaps(connection, host["id"], push.outbox_id, _gap_rows(push, received_at)) if push.outbox_id else 0
        )
        if gaps_recorded:
            log.warning("host %s: its agent reported %d gap(s) of samples it had to drop", host["name"], gaps_recorded)
        skew_seconds = _skew_seconds(push.sent_at, received_at)
        pushes.append({"id": host["id"], **_push_values(push, host, item.new, skew_seconds, received_at)})
        stored = len(item.new)
        result = IngestResult(host["name"], stored, len(push.samples) - stored, gaps_recorded, notifications)
        done.append(Done(result, item.pending.settings if queued else None))
    record_marks_and_pushes(connection, marks, pushes)
    return done


def _grade(
    connection: Connection, item: _Accepted, figures: list[Figures], sample_ids: list[int], incidents: Stored
) -> tuple[int, bool]:
    """Each new sample of the push through grading, incidents and notifications, oldest first (the host's
    incidents as the group read them serve its first sample; each later one reads what the one before wrote);
    how many notifications were written and whether deliveries were queued."""
    settings, received_at = item.pending.settings, item.pending.received_at
    skew_seconds = _skew_seconds(item.pending.push.sent_at, received_at)
    live_after = received_at - timedelta(seconds=settings.fleet.live_within_seconds)
    notifications, queued = 0, False
    stored: Stored | None = incidents
    for index, ((_, sample), each, sample_id) in enumerate(zip(item.new, figures, sample_ids, strict=True)):
        taken_by_hub_clock = sample.timestamp - timedelta(seconds=skew_seconds)
        late = taken_by_hub_clock < live_after
        found = measurements(each)
        if index == len(item.new) - 1 and not late and _forecast_due(item.host, sample):
            found += _forecasts(connection, settings, sample, each)
        note = _late_note(received_at - taken_by_hub_clock) if late else None
        recorded = record_events(connection, sample, sample_id, found, settings, late_note=note, stored=stored)
        stored = None
        notifications += recorded.notification_count
        queued = queued or recorded.queued
    return notifications, queued


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
    """Every column of PUSH_COLUMNS: what the push says, else what the host's row holds."""
    values: dict[str, object] = {column: host[column] for column in PUSH_COLUMNS}
    values |= {"last_seen_at": received_at, "source": push.source}
    if host["fingerprint"] is None and push.fingerprint is not None:
        values["fingerprint"] = push.fingerprint  # the key is bound to the first machine that uses it
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
