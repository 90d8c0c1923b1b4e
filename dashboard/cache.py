"""Caches for the hot read routes.

TimedCache is time-bounded: a value is recomputed at most once per max_age_seconds per key, and only one
computation runs at a time: while it runs, the others get the previous value (or, when there is none yet, wait
for it) instead of repeating it. A page refreshing every few seconds and a burst of 32 clients cost the database
the same: one query a second.

VersionedCache keeps an answer until the data under it changes, for answers that must show a new sample at once
(/monitoring/metrics): each request pays only for finding the data's version.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class TimedCache(Generic[Value]):
    def __init__(self, max_age_seconds: float) -> None:
        self._max_age_seconds = max_age_seconds
        self._entries: dict[Hashable, tuple[float, Value]] = {}
        self._lock = threading.Lock()

    def fresh(self, key: Hashable) -> Value | None:
        """The value if it is young enough or being recomputed; never blocks (safe on the event loop)."""
        entry = self._entries.get(key)
        if entry is not None and (time.monotonic() - entry[0] < self._max_age_seconds or self._lock.locked()):
            return entry[1]
        return None

    def get(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        """The fresh value, or a new one from `compute` (blocking: call it from a worker thread)."""
        with self._lock:
            entry = self._entries.get(key)
            value = entry[1] if entry is not None and time.monotonic() - entry[0] < self._max_age_seconds else None
            if value is None:
                value = compute()
                now = time.monotonic()
                # Expired entries go, so a key asked for once (a mistyped hostname) is not kept for good
                self._entries = {
                    old_key: entry for old_key, entry in self._entries.items() if now - entry[0] < self._max_age_seconds
                }
                self._entries[key] = (now, value)
            return value


class VersionedCache:
    """Response bodies kept until the data they were computed from changes: a body is stored with the version of
    its data (storage.metrics_queries.samples_version) and served while a request finds that same version. Holds
    the most recently used bodies up to max_bytes in all (a bigger one is not kept); while one request computes a
    key, others asking for it wait for its body instead of computing it again."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._held_bytes = 0
        self._entries: OrderedDict[Hashable, tuple[Hashable, bytes]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def _stored(self, key: Hashable, version: Hashable) -> bytes | None:
        """The body of `key` computed at `version`, if held (call with _lock held)."""
        entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def _store(self, key: Hashable, version: Hashable, body: bytes) -> None:
        """Keep `body`, dropping the least recently used ones beyond max_bytes (call with _lock held)."""
        replaced = self._entries.pop(key, None)
        self._held_bytes -= len(replaced[1]) if replaced is not None else 0
        if len(body) > self._max_bytes:
            return
        self._entries[key] = (version, body)
        self._held_bytes += len(body)
        while self._held_bytes > self._max_bytes:
            self._held_bytes -= len(self._entries.popitem(last=False)[1][1])

    def get(self, key: Hashable, version: Hashable, compute: Callable[[], bytes]) -> bytes:
        """The body of `key` at `version`, from `compute` unless held (blocking: call it from a worker thread)."""
        with self._lock:
            stored = self._stored(key, version)
            if stored is not None:
                return stored
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            with self._lock:
                stored = self._stored(key, version)  # computed while this request waited
            if stored is not None:
                return stored
            try:
                body = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            with self._lock:
                self._store(key, version, body)
                self._computing.pop(key, None)
            return body
