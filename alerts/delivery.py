"""Delivery of notifications rows to people through Apprise, the outcome stored per row and destination in
notification_deliveries.

queue_deliveries() runs inside the transaction that writes the rows, so a row and its deliveries commit
together; deliver_due() sends what is due after that, to every destination at once, within
ALERT_DELIVERY_TIMEOUT_SECONDS, and a failure is retried on later runs with exponential backoff until
ALERT_DELIVERY_MAX_AGE, then expired: nothing is dropped silently. The rows are read and written through
storage.delivery_store (Core, not the ORM), and Apprise is imported only when something is sent: the one-shot
monitor run stays cheap.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection, Engine

from config.notify_settings import Destination, NotifySettings, admits, level_rank, redact
from monitoring.alert_text import format_duration
from storage.database import write_transaction
from storage.delivery_store import (
    add_deliveries,
    deliveries_of,
    due_deliveries,
    expirable_deliveries,
    expire_delivery,
    record_attempt,
    set_notification_outcome,
    take_delivery,
    waiting_count,
)
from storage.enums import DeliveryStatus
from storage.types import utc_now

RETRY_BASE_SECONDS = 60.0  # the first retry waits this long, then 2x, 4x ...
RETRY_MAX_SECONDS = 3600.0  # ... at most this long
BATCH_LIMIT = 500  # due deliveries taken per run, oldest first; the rest wait for the next run
CLAIM_MARGIN_SECONDS = 60.0  # a taken row is not due for another process until our deadline plus this
ERROR_MAX_LENGTH = 2000
_NOTIFY_TYPES = ("info", "warning", "failure")  # Apprise NotifyType values by level rank
_DETAILS = (
    ("Host", "host"),
    ("Metric", "metric"),
    ("Resource", "resource"),
    ("Value", "value"),
    ("Threshold", "threshold"),
    ("Level", "level"),
)

log = logging.getLogger("automation.delivery")


class DeliveryReport(NamedTuple):
    delivered: int  # sent this run
    failed: int  # attempted this run without success: retried on a later run
    expired: int  # given up this run: too old, or their destination is no longer configured
    left: int  # still waiting (pending or retrying) after this run


class _Due(NamedTuple):
    """One delivery taken by this run, with what to send."""

    id: int
    notification_id: int
    attempts: int
    previous_next_attempt_at: datetime | None  # restored when the run ends before it was tried
    lease: datetime
    destination: Destination
    title: str
    body: str
    notify_type: str


class _Outcome(NamedTuple):
    ok: bool
    error: str | None
    finished_at: datetime


def queue_deliveries(
    connection: Connection, notifications: Sequence[tuple[int, str, bool]], settings: NotifySettings, now: datetime
) -> int:
    """Insert one pending delivery per destination that wants each (id, level, silenced) row just written,
    in the caller's transaction; silenced rows get none. Returns how many were queued."""
    rows = [
        {
            "notification_id": notification_id,
            "destination": destination.masked,
            "destination_key": destination.key,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "created_at": now,
        }
        for notification_id, level, silenced in notifications
        if not silenced
        for destination in settings.destinations
        if admits(destination, settings, level)
    ]
    if rows:
        add_deliveries(connection, rows)
    return len(rows)


def deliver_due(engine: Engine, settings: NotifySettings, now: datetime | None = None) -> DeliveryReport:
    """Send the due deliveries (pending, or retrying whose next_attempt_at has come), oldest first, and record
    each outcome; expire those too old or whose destination is gone. Returns within about
    ALERT_DELIVERY_TIMEOUT_SECONDS: what was not tried by then stays due for the next run."""
    started = time.monotonic()
    deadline = started + settings.delivery_timeout_seconds
    start_at = now or utc_now()

    def clock() -> datetime:
        return start_at + timedelta(seconds=time.monotonic() - started)

    delivered = failed = left = 0
    with write_transaction(engine) as connection:
        expired_ids = _expire(connection, settings, start_at)
        _summarize(connection, set(expired_ids))
        claimed = _claim(connection, settings, start_at) if settings.destinations else []
        if not claimed:
            left = waiting_count(connection)
    if claimed:
        outcomes, unfinished = _send_all(claimed, settings, deadline, clock)
        with write_transaction(engine) as connection:
            delivered, failed = _record(connection, claimed, outcomes, unfinished, settings, clock())
            _summarize(connection, {due.notification_id for due in claimed})
            left = waiting_count(connection)
    report = DeliveryReport(delivered, failed, len(expired_ids), left)
    if delivered or failed or expired_ids:
        log.info("Notification deliveries: %d delivered, %d failed, %d expired, %d waiting", *report)
    return report


def retry_delay_seconds(attempts: int) -> float:
    """Backoff after the `attempts`-th failed try: 1 min, 2, 4 ... at most 1 h."""
    return min(RETRY_BASE_SECONDS * 2 ** min(max(attempts - 1, 0), 20), RETRY_MAX_SECONDS)


def _expire(connection: Connection, settings: NotifySettings, now: datetime) -> list[int]:
    """Give up on waiting deliveries whose notification is older than the max age or whose destination is no
    longer configured; returns their notifications' ids."""
    keys = [destination.key for destination in settings.destinations]
    oldest = now - timedelta(seconds=settings.delivery_max_age_seconds)
    expired: list[int] = []
    for row in expirable_deliveries(connection, keys, oldest):
        if row.destination_key not in keys:
            reason = "its destination is no longer configured (NOTIFY_URLS, EMAIL_*, SLACK_*)"
        else:
            max_age = format_duration(settings.delivery_max_age_seconds)
            reason = f"not delivered within ALERT_DELIVERY_MAX_AGE ({max_age}) after {row.attempts} attempt(s)"
        message = f"expired: {reason}" + (f"; last error: {row.error_message}" if row.error_message else "")
        if expire_delivery(connection, row, message[:ERROR_MAX_LENGTH]):
            log.warning("Notification %s to %s %s", row.notification_id, row.destination, message)
            expired.append(row.notification_id)
    return expired


def _claim(connection: Connection, settings: NotifySettings, now: datetime) -> list[_Due]:
    """Take the due deliveries, oldest notification first: each one's next_attempt_at moves past this run's
    deadline (compare-and-set), so another process running at the same time does not send it too."""
    by_key = {destination.key: destination for destination in settings.destinations}
    lease = now + timedelta(seconds=settings.delivery_timeout_seconds + CLAIM_MARGIN_SECONDS)
    claimed: list[_Due] = []
    for row in due_deliveries(connection, list(by_key), now, BATCH_LIMIT):
        if take_delivery(connection, row, lease):
            claimed.append(
                _Due(
                    row.id,
                    row.notification_id,
                    row.attempts,
                    row.next_attempt_at,
                    lease,
                    by_key[row.destination_key],
                    row.title,
                    message_body(row),
                    _NOTIFY_TYPES[level_rank(row.level)],
                )
            )
    return claimed


def message_body(row: Any) -> str:
    """The notification's message, then one line per detail it has (host, metric, resource, value, ...)."""
    lines = [
        f"{label}: {_shown(getattr(row, column))}"
        for label, column in _DETAILS
        if getattr(row, column) not in (None, "")
    ]
    if getattr(row, "sent_at", None) is not None:
        lines.append(f"Time: {row.sent_at:%Y-%m-%d %H:%M:%S} UTC")
    return "\n".join([row.message.rstrip(), "", *lines]) if lines else row.message


def _shown(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _send_all(
    claimed: list[_Due], settings: NotifySettings, deadline: float, clock: Callable[[], datetime]
) -> tuple[dict[int, _Outcome], set[int]]:
    """Send to every destination at once, one daemon thread each (its deliveries in order, its own Apprise
    client and request timeouts), and stop waiting at the deadline: a hung server holds up neither the caller
    nor the other destinations, and no thread of it delays the interpreter's exit. Returns the outcomes that
    came back, and the ids that were begun without an answer in time."""
    results: queue.Queue[tuple[int, _Outcome]] = queue.Queue()
    lock, stop = threading.Lock(), threading.Event()
    begun: list[int] = []
    by_destination: dict[str, list[_Due]] = {}
    for due in claimed:
        by_destination.setdefault(due.destination.key, []).append(due)

    def work(deliveries: list[_Due]) -> None:
        try:
            sender: _Sender | None = _Sender(deliveries[0].destination, settings.delivery_timeout_seconds)
        except Exception as error:  # noqa: BLE001 - e.g. apprise missing: every delivery fails the same way
            sender, failure = None, f"cannot load Apprise: {error.__class__.__name__}: {error}"
        for due in deliveries:
            with lock:
                if stop.is_set():
                    return
                begun.append(due.id)
            try:
                ok, error_text = sender.send(due) if sender else (False, failure)
            except Exception as error:  # noqa: BLE001 - one delivery's crash must not stop the others
                ok, error_text = False, f"{error.__class__.__name__}: {error}"
            if error_text:
                error_text = " ".join(redact(error_text, due.destination.url).split())[:ERROR_MAX_LENGTH]
            results.put((due.id, _Outcome(ok, error_text, clock())))

    threads = [
        threading.Thread(target=work, args=(deliveries,), name="notification-delivery", daemon=True)
        for deliveries in by_destination.values()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
    with lock:
        stop.set()
        started = list(begun)
    outcomes: dict[int, _Outcome] = {}
    while True:
        try:
            delivery_id, outcome = results.get_nowait()
        except queue.Empty:
            break
        outcomes[delivery_id] = outcome
    return outcomes, {delivery_id for delivery_id in started if delivery_id not in outcomes}


class _Sender:
    """One destination's Apprise client, every request bounded by the delivery timeout (cto/rto)."""

    def __init__(self, destination: Destination, timeout_seconds: float) -> None:
        import apprise

        self.apprise = apprise
        # service_timeout=0: Apprise sends in this (daemon) thread instead of its own pool, which the
        # interpreter would wait for at exit; storage in memory: nothing written to disk.
        asset = apprise.AppriseAsset(
            app_id="Automation platform", app_desc="System monitor alerts", service_timeout=0, storage_mode="memory"
        )
        self.client = apprise.Apprise(asset=asset)
        self.loaded = bool(self.client.add(with_timeouts(destination.url, timeout_seconds)))

    def send(self, due: _Due) -> tuple[bool, str | None]:
        if not self.loaded:
            return False, "Apprise could not load this destination's URL"
        result = self.client.notify(
            body=due.body,
            title=due.title,
            notify_type=self.apprise.NotifyType(due.notify_type),
            body_format=self.apprise.NotifyFormat.TEXT,
        )
        if result:
            return True, None
        messages = dict.fromkeys(entry.message for entry in result.logs() if entry.message)
        return False, "; ".join(messages) or f"Apprise reported {result.status.name}"


def with_timeouts(url: str, seconds: float) -> str:
    """The URL with Apprise's connect (cto) and read (rto) timeouts, unless it sets them itself."""
    query = url.partition("?")[2]
    given = {parameter.partition("=")[0].lower() for parameter in query.split("&") if parameter}
    extra = [f"{name}={seconds:g}" for name in ("cto", "rto") if name not in given]
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + "&".join(extra)


def _record(
    connection: Connection,
    claimed: list[_Due],
    outcomes: dict[int, _Outcome],
    unfinished: set[int],
    settings: NotifySettings,
    ended_at: datetime,
) -> tuple[int, int]:
    """Write each taken delivery's outcome; one never begun gets its previous next_attempt_at back."""
    delivered = failed = 0
    for due in claimed:
        outcome = outcomes.get(due.id)
        if outcome is None and due.id in unfinished:
            outcome = _Outcome(
                False,
                f"timed out: no answer within ALERT_DELIVERY_TIMEOUT_SECONDS ({settings.delivery_timeout_seconds:g} s)",
                ended_at,
            )
        if outcome is None:
            values: dict[str, Any] = {"next_attempt_at": due.previous_next_attempt_at}
        elif outcome.ok:
            values = {
                "status": DeliveryStatus.DELIVERED,
                "attempts": due.attempts + 1,
                "last_attempt_at": outcome.finished_at,
                "delivered_at": outcome.finished_at,
                "next_attempt_at": None,
                "error_message": None,
            }
        else:
            retry_at = outcome.finished_at + timedelta(seconds=retry_delay_seconds(due.attempts + 1))
            values = {
                "status": DeliveryStatus.RETRYING,
                "attempts": due.attempts + 1,
                "last_attempt_at": outcome.finished_at,
                "next_attempt_at": retry_at,
                "error_message": outcome.error,
            }
        if not record_attempt(connection, due.id, due.lease, values) or outcome is None:
            continue  # not ours any more (expired meanwhile), or not tried
        if outcome.ok:
            delivered += 1
        else:
            failed += 1
            log.warning(
                "Notification %s to %s failed (attempt %d), next try at %s: %s",
                due.notification_id,
                due.destination.masked,
                due.attempts + 1,
                values["next_attempt_at"].isoformat(),
                outcome.error,
            )
    return delivered, failed


def _summarize(connection: Connection, notification_ids: set[int]) -> None:
    """notifications.success/error_message from their deliveries: False with the last error while any was tried
    without success (retrying or expired), True once all are delivered."""
    by_notification: dict[int, list[Any]] = {}
    for row in deliveries_of(connection, notification_ids):
        by_notification.setdefault(row.notification_id, []).append(row)
    for notification_id, group in by_notification.items():
        failing = [row for row in group if row.status in (DeliveryStatus.RETRYING, DeliveryStatus.EXPIRED)]
        if failing:
            last = max(failing, key=lambda row: (row.last_attempt_at is not None, row.last_attempt_at or 0, row.id))
            set_notification_outcome(connection, notification_id, False, f"{last.destination}: {last.error_message}")
        elif all(row.status == DeliveryStatus.DELIVERED for row in group):
            set_notification_outcome(connection, notification_id, True, None)
