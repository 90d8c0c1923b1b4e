"""Group commit for the hub's ingest route: pushes that arrive while a group is being written wait, and are
then written together, in one transaction (fleet.ingest.ingest_group), by one writer thread per process.

A group costs about a dozen statements whatever its size (the host locks, the outbox marks, each table's
INSERT, the incidents read, the hosts' rows, the commit), so under load the cost of a push falls as more arrive
at once; a push that comes alone is written at once, as before. Nothing is kept between groups: a second hub
process on the same database sees everything a group wrote once it commits. A group holds each host's key at
most once (a push repeated at once waits for the next group, so the outbox mark of the first decides what the
second stores); a group the database refuses is written again one push at a time, so one bad push fails alone.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy.exc import OperationalError

from fleet.ingest import Done, IngestRefused, IngestResult, Pending, deliver, ingest_group
from storage.database import DatabaseUnavailable, database_failure

log = logging.getLogger("automation.ingest")

# A group's bounds: enough to cover every push a busy hub receives while one group is written (tens of
# milliseconds), few enough that one transaction stays short.
MAX_GROUP_PUSHES = 64
MAX_GROUP_SAMPLES = 5000

_Item = tuple[Pending, "Future[IngestResult]"]


class IngestWriter:
    """One writer thread, started by the first push; submit() returns the push's future result. (A second thread,
    building one group while the other waits for the database, made the groups smaller and the hub no faster on
    2 cores: the work is Python's, under one lock.)"""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._held: deque[_Item] = deque()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None
        # Deliveries (deliver_due: network, up to ALERT_DELIVERY_TIMEOUT_SECONDS) do not hold up the next group.
        self._deliveries = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ingest-delivery")

    def submit(self, pending: Pending) -> Future[IngestResult]:
        """Queue a push for the writer thread (started by the first); its future is the IngestResult, or raises
        IngestRefused (or a database error)."""
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
                self._thread.start()
        return self.enqueue(pending)

    def enqueue(self, pending: Pending) -> Future[IngestResult]:
        """Queue a push without starting a writer thread (a test takes and writes the groups itself)."""
        future: Future[IngestResult] = Future()
        self._queue.put((pending, future))
        return future

    def _run(self) -> None:
        while True:
            self.write(self.next_group())

    def next_group(self) -> list[_Item]:
        """The pushes held back from the last group, then whatever is queued, within the bounds; waits for one
        when there is none."""
        candidates = deque(self._held) if self._held else deque([self._queue.get()])
        self._held.clear()
        group: list[_Item] = []
        keys: set[str] = set()
        samples = 0
        while candidates or not self._queue.empty():
            item = candidates.popleft() if candidates else self._queue.get_nowait()
            size = len(item[0].push.samples)
            if len(group) >= MAX_GROUP_PUSHES or (group and samples + size > MAX_GROUP_SAMPLES):
                self._held.append(item)
                break
            if item[0].key in keys:
                self._held.append(item)
                continue
            group.append(item)
            keys.add(item[0].key)
            samples += size
        self._held.extend(candidates)
        return group

    def write(self, group: list[_Item]) -> None:
        """Write a group and answer each of its pushes; a group that fails is written again one push at a time,
        unless the database cannot be reached (each push would wait for it again): then each gets the error."""
        try:
            done = ingest_group([pending for pending, _ in group])
        except Exception as error:  # noqa: BLE001 - each push is answered: alone, or with this error
            if len(group) > 1 and not _unreachable(error):
                why = database_failure(error) or type(error).__name__
                log.warning("a group of %d pushes failed (%s); writing them one at a time", len(group), why)
                for item in group:
                    self.write([item])
            else:
                for _, future in group:
                    future.set_exception(error)
            return
        for (_, future), each in zip(group, done, strict=True):
            if each.deliver is None:
                _answer(future, each)
            else:
                self._deliveries.submit(_deliver_then_answer, future, each)


def _unreachable(error: Exception) -> bool:
    """Whether the error is about reaching the database (down, refusing connections, its file gone), not about
    what a push holds."""
    return isinstance(error, OperationalError | DatabaseUnavailable)


def _answer(future: Future[IngestResult], done: Done) -> None:
    if isinstance(done.outcome, IngestRefused):
        future.set_exception(done.outcome)
    else:
        future.set_result(done.outcome)


def _deliver_then_answer(future: Future[IngestResult], done: Done) -> None:
    """A push that queued deliveries is answered once they are sent (or failed), as a local run reports."""
    try:
        deliver(done.deliver)
    except Exception:  # the push is stored; what was not sent stays queued for the next try
        log.exception("sending the deliveries a push queued failed")
    _answer(future, done)


WRITER = IngestWriter()
