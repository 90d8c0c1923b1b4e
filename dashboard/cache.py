"""A tiny time-bounded cache for the hot read routes: a value is recomputed at most once per max_age_seconds per
key, and only one computation runs at a time: while it runs, the others get the previous value (or, when there
is none yet, wait for it) instead of repeating it.

A page refreshing every few seconds and a burst of 32 clients cost the database the same: one query a second.
"""

from __future__ import annotations

import threading
import time
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
