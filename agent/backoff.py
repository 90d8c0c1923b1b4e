"""When to try the hub again after a failed push: exponential backoff with full jitter (a random wait between 0
and base x 2^failures, capped), so that agents cut off by one hub outage do not all come back in the same
second. A Retry-After from the hub is honoured (within the cap)."""

from __future__ import annotations

import random


class Backoff:
    """The wait before the next try; `reset()` after a push that went through."""

    def __init__(self, base_seconds: float = 1.0, cap_seconds: float = 300.0, rng: random.Random | None = None) -> None:
        self.base_seconds = base_seconds
        self.cap_seconds = cap_seconds
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self, retry_after_seconds: float | None = None) -> float:
        """Seconds to wait after one more failure: uniform in [0, min(cap, base x 2^(failures-1))], and at least
        the hub's Retry-After (at most the cap)."""
        self.failures += 1
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** min(self.failures - 1, 62))
        delay = self._rng.uniform(0, ceiling)
        if retry_after_seconds is not None:
            delay = max(delay, min(retry_after_seconds, self.cap_seconds))
        return delay

    def capped_delay(self) -> float:
        """The wait after a refusal that will not clear by itself (a revoked key): the cap."""
        self.failures += 1
        return self.cap_seconds

    def reset(self) -> None:
        self.failures = 0
