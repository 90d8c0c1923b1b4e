"""dashboard.cache: TimedCache serves values again while fresh and does not keep expired keys for good;
VersionedCache serves a body until its version changes, holds at most max_bytes of them and computes a missing
one once however many ask for it at the same time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from dashboard.cache import TimedCache, VersionedCache


def test_a_fresh_value_is_served_without_computing_it_again() -> None:
    cache: TimedCache[str] = TimedCache(max_age_seconds=3600)
    computed: list[str] = []
    assert cache.get("host-a", lambda: computed.append("a") or "first") == "first"
    assert cache.get("host-a", lambda: computed.append("a") or "second") == "first"
    assert cache.fresh("host-a") == "first" and cache.fresh("host-b") is None
    assert computed == ["a"]


def test_expired_keys_are_dropped_when_another_value_is_computed() -> None:
    cache: TimedCache[int] = TimedCache(max_age_seconds=0)  # every value expires at once
    for number in range(100):  # e.g. /monitoring/metrics/latest?hostname=<a different typo each time>
        cache.get(f"typo-{number}", lambda: 404)
    assert list(cache._entries) == ["typo-99"]  # not a hundred entries held for the server's lifetime


def test_a_versioned_body_is_kept_until_the_version_changes() -> None:
    cache = VersionedCache(max_bytes=1024)
    computed: list[bytes] = []

    def compute(body: bytes) -> Callable[[], bytes]:
        return lambda: computed.append(body) or body

    assert cache.get("page", (1, "t0"), compute(b"first")) == b"first"
    assert cache.get("page", (1, "t0"), compute(b"again")) == b"first"
    assert cache.get("other page", (1, "t0"), compute(b"other")) == b"other"  # another query, another answer
    assert cache.get("page", (2, "t0"), compute(b"newer")) == b"newer"  # a sample was stored
    assert cache.get("page", (2, "t1"), compute(b"pruned")) == b"pruned"  # retention deleted the oldest
    assert computed == [b"first", b"other", b"newer", b"pruned"]


def test_only_the_most_recently_used_bodies_are_held_up_to_max_bytes() -> None:
    cache = VersionedCache(max_bytes=30)
    for number in range(100):  # a hundred different queries of 10 bytes each
        cache.get(number, 1, lambda: b"0123456789")
    cache.get(97, 1, lambda: b"recomputed")  # used again: now the most recent
    cache.get(100, 1, lambda: b"abcdefghij")
    assert list(cache._entries) == [99, 97, 100] and cache._held_bytes == 30
    cache.get(101, 1, lambda: b"x" * 31)  # bigger than everything allowed: served, not kept
    assert list(cache._entries) == [99, 97, 100] and cache._held_bytes == 30
    cache.get(100, 2, lambda: b"abcdefghijklmnopqrst")  # replaced by a bigger body: the oldest makes room
    assert list(cache._entries) == [97, 100] and cache._held_bytes == 30


def test_concurrent_requests_for_one_key_compute_it_once() -> None:
    cache = VersionedCache(max_bytes=1024)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> bytes:
        calls.append(1)
        started.set()
        release.wait(10)
        return b"42"

    with ThreadPoolExecutor(max_workers=8) as pool:
        first = pool.submit(cache.get, "page", 1, slow)
        assert started.wait(10)
        others = [pool.submit(cache.get, "page", 1, slow) for _ in range(7)]
        release.set()
        answers = [first.result(10), *(other.result(10) for other in others)]
    assert answers == [b"42"] * 8 and calls == [1]


def test_a_failed_computation_is_not_kept() -> None:
    cache = VersionedCache(max_bytes=1024)

    def broken() -> bytes:
        raise ConnectionError("database went away")

    with pytest.raises(ConnectionError):
        cache.get("page", 1, broken)
    assert cache.get("page", 1, lambda: b"7") == b"7" and not cache._computing
