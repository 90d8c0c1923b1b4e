"""dashboard.cache.TimedCache: values served again while fresh, and expired keys not kept for good."""

from __future__ import annotations

from dashboard.cache import TimedCache


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
