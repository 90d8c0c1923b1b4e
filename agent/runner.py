"""`main.py agent run`: collect a sample every AGENT_INTERVAL into the outbox, and push the outbox to the hub.

Two threads, so that a slow or unreachable hub never delays a collection:
- the collector (the main thread) wakes on a fixed grid of wall-clock multiples of the interval (no drift: each
  slot is the previous one plus the interval, not "now plus the interval"), runs the same collectors and rates
  as the monitor job against the previous sample's counters kept in memory (never sleeping inside a
  collection), and commits the encoded sample to the outbox;
- the pusher sends what waits, oldest first, AGENT_BATCH_SIZE samples per request, back to back until the
  outbox is empty, and acknowledges what the hub answered 200 to. On no answer, 429 or 5xx it backs off
  exponentially with full jitter (Retry-After honoured); on another 4xx (a revoked key: 401, another machine's
  fingerprint: 403) it logs one line and tries again at the backoff's cap, so a fixed key resumes with nothing
  lost. Meanwhile the collector keeps filling the outbox (bounded by AGENT_OUTBOX_MAX_AGE and _MAX_BYTES).

SIGTERM or SIGINT ends both at the next step; a push in flight is abandoned (its samples stay in the outbox, and
the hub stores a replayed sample once).
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sqlite3
import threading
import time
from dataclasses import astuple
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from agent.backoff import Backoff
from agent.fingerprint import machine_fingerprint
from agent.hub_client import HubClient, PushOutcome
from agent.outbox import Outbox
from agent.pid_file import PidFile
from agent.state_file import StateFile
from config.agent_settings import AgentConfig, AgentSettings
from monitoring.collectors.registry import collect_sample
from monitoring.snapshot import live_snapshot, snapshot_of
from monitoring.wire import MAX_GAPS_PER_BATCH, IncomingGap, batch_body, encode_sample

log = logging.getLogger("automation.agent")
STOP_WAIT_SECONDS = 2.0  # how long SIGTERM waits for a push in flight before leaving it to the next start


def agent_version() -> str:
    try:
        return version("automation-platform")
    except PackageNotFoundError:  # run from a checkout that was never pip-installed
        return "0+unknown"


def first_slot(now: float, interval_seconds: float) -> float:
    """The first collection time: the next multiple of the interval at least half an interval away, so the
    first sample's rates span a real stretch after the baseline read at start."""
    slot = math.ceil(now / interval_seconds) * interval_seconds
    return slot + interval_seconds if slot - now < interval_seconds / 2 else slot


def run_agent(config: AgentConfig, hub_url: str, host_key: str) -> int:
    """Collect and push until SIGTERM/SIGINT; returns the exit code (0)."""
    settings = config.agent
    pid_file = PidFile(settings.pid_file)
    pid_file.acquire()  # AlreadyRunning propagates to the command, which says so
    stop = threading.Event()
    wake = threading.Event()

    def on_signal(*_: object) -> None:
        stop.set()
        wake.set()

    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, on_signal)
    outbox = Outbox(settings.outbox_path, settings.outbox_max_age_seconds, settings.outbox_max_bytes)
    outbox.enforce_bounds(time.time())
    state = StateFile(
        settings.state_file,
        {
            "pid": os.getpid(),
            "started_at": time.time(),
            "hub_url": hub_url,
            "interval_seconds": settings.interval_seconds,
            "last_push_at": None,
            "last_error": None,
            "backlog": _backlog(outbox),
        },
    )
    pusher = Pusher(settings, hub_url, host_key, state, wake, stop)
    pusher.start()
    log.info(
        "agent %s started: every %g s to %s (outbox %s, %d waiting)",
        agent_version(),
        settings.interval_seconds,
        hub_url,
        settings.outbox_path,
        outbox.backlog().samples,
    )
    try:
        _collect_until_stopped(config, outbox, state, wake, stop)
    finally:
        stop.set()
        wake.set()
        pusher.join(STOP_WAIT_SECONDS)
        outbox.close()
        pid_file.release()
    log.info("agent stopped")
    return 0


def _collect_until_stopped(
    config: AgentConfig, outbox: Outbox, state: StateFile, wake: threading.Event, stop: threading.Event
) -> None:
    interval = config.agent.interval_seconds
    previous = live_snapshot(config.collectors)  # the baseline: the first sample's rates run from here
    due = time.monotonic() + (first_slot(time.time(), interval) - time.time())
    while not stop.wait(max(0.0, due - time.monotonic())):
        sample = collect_sample(config.collectors, previous)
        previous = snapshot_of(sample)
        try:
            outbox.append(encode_sample(sample), sample.timestamp.timestamp())
            state.update(backlog=_backlog(outbox))
        except sqlite3.Error as error:  # a full disk, a damaged file: this sample is lost, in one line
            log.error("the sample of %s could not be stored in the outbox: %s", sample.timestamp.isoformat(), error)
        wake.set()
        due += interval
        late = time.monotonic() - due
        if late >= 0:  # the machine was suspended, or a collection took longer than the interval
            skipped = math.floor(late / interval) + 1
            log.warning("collection fell %d interval(s) behind; resuming on the next slot", skipped)
            due += skipped * interval


def _backlog(outbox: Outbox) -> dict[str, Any]:
    backlog = outbox.backlog()
    return {
        "samples": backlog.samples,
        "bytes": backlog.body_bytes,
        "oldest_collected_at": backlog.oldest_collected_at,
        "gaps": backlog.gaps,
    }


class Pusher(threading.Thread):
    """Sends the outbox to the hub (its own connection to the outbox: SQLite connections stay in their thread)."""

    def __init__(
        self,
        settings: AgentSettings,
        hub_url: str,
        host_key: str,
        state: StateFile,
        wake: threading.Event,
        stop: threading.Event,
    ) -> None:
        super().__init__(name="agent-pusher", daemon=True)  # daemon: a hung request must not hold up the exit
        self.settings = settings
        self.client = HubClient(hub_url, host_key, settings.ca_file)
        self.state = state
        self.wake = wake
        self.stop = stop
        self.backoff = Backoff(cap_seconds=settings.retry_max_seconds)
        self.batch_size = settings.batch_size
        self.fingerprint = machine_fingerprint()
        self.version = agent_version()
        self._failing: str | None = None  # the last failure logged, so a persisting one is logged once

    def run(self) -> None:
        outbox = Outbox(self.settings.outbox_path, self.settings.outbox_max_age_seconds, self.settings.outbox_max_bytes)
        try:
            while not self.stop.is_set():
                self.wake.clear()
                try:
                    delay = self._push_once(outbox)
                except Exception as error:  # noqa: BLE001 - pushing must outlive any one failure (the outbox keeps all)
                    delay = self.backoff.capped_delay()
                    log.error("pushing failed (%s: %s); trying again in %g s", type(error).__name__, error, delay)
                if delay is None:  # nothing waits: sleep until the collector appends
                    self.wake.wait()
                elif delay > 0:
                    self.stop.wait(delay)
        finally:
            outbox.close()
            self.client.close()

    def _push_once(self, outbox: Outbox) -> float | None:
        """Push one batch; returns None when the outbox is empty, else the seconds to wait before the next."""
        entries = outbox.pending(self.batch_size)
        gaps = outbox.gaps()[:MAX_GAPS_PER_BATCH]
        if not entries and not gaps:
            return None
        body = batch_body(
            outbox.outbox_id,
            self.fingerprint,
            self.version,
            time.time(),
            self.settings.interval_seconds,
            [(entry.seq, entry.collected_at, entry.body) for entry in entries],
            [IncomingGap(*astuple(gap)) for gap in gaps],  # the outbox's Gap has the wire's fields in order
        )
        outcome = self.client.push(body)
        if self.stop.is_set() and not outcome.accepted:
            return 0.0  # cut short by the stop: not a failure worth a log line
        if outcome.accepted:
            outbox.acknowledge([entry.seq for entry in entries])
            outbox.acknowledge_gaps([gap.id for gap in gaps])
            self._succeeded(len(entries), outbox)
            return 0.0  # the next batch at once: a backlog drains back to back
        if outcome.status == 413 and self.batch_size > 1:
            self.batch_size = max(1, self.batch_size // 2)
            log.warning("the hub refused a batch as too large (413); sending %d samples per push", self.batch_size)
            return 0.0
        return self._failed(outcome, outbox)

    def _succeeded(self, pushed: int, outbox: Outbox) -> None:
        if self._failing is not None:
            log.info("the hub took a push again (%d sample(s)); sending what waited", pushed)
            self._failing = None
        self.backoff.reset()
        self.state.update(last_push_at=time.time(), last_error=None, backlog=_backlog(outbox))

    def _failed(self, outcome: PushOutcome, outbox: Outbox) -> float:
        if outcome.retryable:
            delay = self.backoff.next_delay(outcome.retry_after_seconds)
            what = f"HTTP {outcome.status}: {outcome.detail}" if outcome.status else outcome.detail
            line = f"push to {self.client.url} failed ({what}); retrying with backoff, samples wait in the outbox"
        else:
            delay = self.backoff.capped_delay()
            line = (
                f"the hub refused the push: HTTP {outcome.status}: {outcome.detail}; not retried as is: trying again "
                f"every {self.backoff.cap_seconds:g} s while samples wait in the outbox"
            )
        key = f"{outcome.status} {outcome.detail}" if outcome.status else "no answer"
        if key != self._failing:  # one line per kind of failure, not one per try
            (log.warning if outcome.retryable else log.error)(line)
            self._failing = key
        error_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.state.update(
            last_error=f"{error_at} {outcome.status or 'no answer'}: {outcome.detail}",
            next_try_in_seconds=round(delay, 1),
            backlog=_backlog(outbox),
        )
        return delay
