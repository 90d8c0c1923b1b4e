"""Every host's newest sample kept between requests, for the fleet view over a thousand hosts that push all the
time.

metrics_queries.latest_samples reads every host's newest sample: a few index seeks per host, tens of
milliseconds for a thousand hosts (most of it on PostgreSQL and MariaDB). While samples only arrive, the newest
of each host changes only by the samples stored since the last call, a primary-key range of a few rows, so a
NewestSamples reads those and keeps the newer of each host. It reads everything again when samples_version shows
deletions (retention moved the oldest sample) or an id going back, when too many samples arrived to be worth
merging, and at least every FULL_READ_EVERY_SECONDS: on PostgreSQL and MariaDB an id is handed out before commit,
so a sample can commit after a higher id was read, and a host's samples deleted from the middle (a purged host)
show in no version; either is corrected by the next full read (or, for the first, by the host's next sample).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from storage import tables
from storage.metrics_queries import SamplesVersion, latest_samples, plain_rows, samples_version

FULL_READ_EVERY_SECONDS = 30.0
MAX_MERGED_SAMPLES = 5000  # more new ids than this: read everything again instead


class NewestSamples:
    """latest_samples(columns) of one database, answered from what the last call read (thread-safe)."""

    def __init__(self, columns: tuple[str, ...], full_read_every_seconds: float = FULL_READ_EVERY_SECONDS) -> None:
        self._columns = columns
        self._full_read_every_seconds = full_read_every_seconds
        self._lock = threading.Lock()
        self._rows: dict[str, dict[str, Any]] = {}
        self._version: SamplesVersion | None = None
        self._read_at = -math.inf  # monotonic time of the last full read

    def current(self, connection: Connection) -> dict[str, dict[str, Any]]:
        """Every host's newest sample by hostname, as latest_samples gives it (a copy of the dict)."""
        with self._lock:
            version = samples_version(connection)
            known, newest = self._seen_id(), version.newest_id or 0
            now = time.monotonic()
            if (
                self._version is None
                or version.oldest_time != self._version.oldest_time
                or newest < known
                or newest - known > MAX_MERGED_SAMPLES
                or now - self._read_at >= self._full_read_every_seconds
            ):
                self._rows = {row["hostname"]: row for row in latest_samples(connection, self._columns)}
                self._read_at = now
            elif newest > known:
                self._merge(connection, known, newest)
            self._version = version
            return dict(self._rows)

    def _seen_id(self) -> int:
        return (self._version.newest_id or 0) if self._version is not None else 0

    def _merge(self, connection: Connection, after_id: int, through_id: int) -> None:
        """The samples with ids in (after_id, through_id]: each replaces its host's newest if it is newer."""
        metrics = tables.system_metrics
        statement = select(*(metrics.c[name] for name in ("id", "timestamp", "hostname", *self._columns))).where(
            metrics.c.id > after_id, metrics.c.id <= through_id
        )
        for row in plain_rows(connection.execute(statement)):
            known = self._rows.get(row["hostname"])
            if known is None:
                self._rows[row["hostname"]] = {**row, "sampled_every_seconds": None}
            elif (row["timestamp"], row["id"]) > (known["timestamp"], known["id"]):
                # whole seconds between the two, as latest_samples counts them
                every = math.floor(row["timestamp"].timestamp()) - math.floor(known["timestamp"].timestamp())
                self._rows[row["hostname"]] = {**row, "sampled_every_seconds": every}
