"""The agent's durable outbox: every sample is committed to a local SQLite file before anything is sent, and
leaves it only when the hub has acknowledged it, so a hub outage or a killed agent loses nothing that was
collected.

Plain `sqlite3` (no SQLAlchemy): an agent host should not carry the hub's stack. Each sample gets the next
sequence number of this outbox (AUTOINCREMENT: never reused, even after acknowledged rows are deleted); with the
outbox's own random id it names the sample exactly once at the hub, across agent restarts. What the bounds
(age, size) drop is never silent: each dropped run of samples becomes a gap row, itself sent to the hub and
acknowledged like a sample.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from config.paths import OWNER_ONLY_FILE_MODE, private_folder

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    collected_at REAL NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    first_collected_at REAL NOT NULL,
    last_collected_at REAL NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS identity (outbox_id TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Entry:
    """A sample waiting for the hub's acknowledgement."""

    seq: int
    collected_at: float  # Unix seconds, as the agent's clock said at collection
    body: bytes


@dataclass(frozen=True)
class Gap:
    """Samples the outbox dropped to stay within its bounds: seq first_seq..last_seq, `samples` of them."""

    id: int
    first_seq: int
    last_seq: int
    samples: int
    first_collected_at: float
    last_collected_at: float
    reason: str


@dataclass(frozen=True)
class Backlog:
    """What waits to be sent: samples, their bytes, the oldest collection time, unacknowledged gaps."""

    samples: int
    body_bytes: int
    oldest_collected_at: float | None
    gaps: int


class Outbox:
    """Samples of one agent waiting for the hub, oldest first, bounded by age and by the bytes of their bodies."""

    def __init__(self, path: Path, max_age_seconds: float, max_bytes: int) -> None:
        self.path = path
        self.max_age_seconds = max_age_seconds
        self.max_bytes = max_bytes
        private_folder(path.parent)
        if not path.exists():  # owner only from the start: the bodies say what runs on this host
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, OWNER_ONLY_FILE_MODE))
        # isolation_level=None: transactions are the explicit BEGIN IMMEDIATE of _transaction().
        self._connection = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=FULL")  # a committed sample survives a power cut too
        self._connection.executescript(_SCHEMA)  # idempotent; executescript commits on its own
        with self._transaction() as cursor:
            row = cursor.execute("SELECT outbox_id FROM identity").fetchone()
            if row is None:
                cursor.execute("INSERT INTO identity VALUES (?)", (uuid.uuid4().hex,))
        self.outbox_id: str = self._connection.execute("SELECT outbox_id FROM identity").fetchone()[0]

    def close(self) -> None:
        self._connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cursor = self._connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")

    def append(self, body: bytes, collected_at: float) -> int:
        """Commit one sample and return its sequence number; then drop, as gaps, what is past the bounds."""
        with self._transaction() as cursor:
            cursor.execute("INSERT INTO samples (collected_at, body) VALUES (?, ?)", (collected_at, body))
            seq = cursor.lastrowid
            assert seq is not None
            self._drop_older_than(cursor, collected_at - self.max_age_seconds)
            self._drop_over_size(cursor)
        return seq

    def enforce_bounds(self, now: float) -> None:
        """Drop, as gaps, what is past the bounds already (an agent started after a long stop), before any of it
        is sent: a sample the hub stored must not also be reported dropped."""
        with self._transaction() as cursor:
            self._drop_older_than(cursor, now - self.max_age_seconds)
            self._drop_over_size(cursor)

    def pending(self, limit: int) -> list[Entry]:
        """The oldest `limit` samples not yet acknowledged, oldest first."""
        rows = self._connection.execute(
            "SELECT seq, collected_at, body FROM samples ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [Entry(seq, collected_at, bytes(body)) for seq, collected_at, body in rows]

    def acknowledge(self, seqs: list[int]) -> None:
        """The hub stored these samples (or already had them): they leave the outbox."""
        with self._transaction() as cursor:
            cursor.executemany("DELETE FROM samples WHERE seq = ?", [(seq,) for seq in seqs])

    def gaps(self) -> list[Gap]:
        rows = self._connection.execute(
            "SELECT id, first_seq, last_seq, samples, first_collected_at, last_collected_at, reason "
            "FROM gaps ORDER BY id"
        ).fetchall()
        return [Gap(*row) for row in rows]

    def acknowledge_gaps(self, ids: list[int]) -> None:
        with self._transaction() as cursor:
            cursor.executemany("DELETE FROM gaps WHERE id = ?", [(gap_id,) for gap_id in ids])

    def backlog(self) -> Backlog:
        samples, body_bytes, oldest = self._connection.execute(
            "SELECT count(*), coalesce(sum(length(body)), 0), min(collected_at) FROM samples"
        ).fetchone()
        gaps = self._connection.execute("SELECT count(*) FROM gaps").fetchone()[0]
        return Backlog(samples, body_bytes, oldest, gaps)

    def _drop_older_than(self, cursor: sqlite3.Cursor, oldest_kept: float) -> None:
        last = cursor.execute("SELECT max(seq) FROM samples WHERE collected_at < ?", (oldest_kept,)).fetchone()[0]
        if last is not None:
            self._drop_through(cursor, last, f"older than AGENT_OUTBOX_MAX_AGE ({self.max_age_seconds:g} s)")

    def _drop_over_size(self, cursor: sqlite3.Cursor) -> None:
        """Drop the oldest samples until the bodies fit in max_bytes (the newest sample is always kept)."""
        total = cursor.execute("SELECT coalesce(sum(length(body)), 0) FROM samples").fetchone()[0]
        if total <= self.max_bytes:
            return
        last = None
        for seq, size in cursor.execute("SELECT seq, length(body) FROM samples ORDER BY seq").fetchall()[:-1]:
            total -= size
            last = seq
            if total <= self.max_bytes:
                break
        if last is not None:
            self._drop_through(cursor, last, f"past AGENT_OUTBOX_MAX_BYTES ({self.max_bytes} bytes)")

    @staticmethod
    def _drop_through(cursor: sqlite3.Cursor, last_seq: int, reason: str) -> None:
        """Delete the samples up to `last_seq` and record them as one gap."""
        first, samples, first_at, last_at = cursor.execute(
            "SELECT min(seq), count(*), min(collected_at), max(collected_at) FROM samples WHERE seq <= ?",
            (last_seq,),
        ).fetchone()
        cursor.execute(
            "INSERT INTO gaps (first_seq, last_seq, samples, first_collected_at, last_collected_at, reason) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (first, last_seq, samples, first_at, last_at, reason),
        )
        cursor.execute("DELETE FROM samples WHERE seq <= ?", (last_seq,))
