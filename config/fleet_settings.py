"""Settings of the hub's side of the fleet: taking agents' pushes, and when a host that stopped pushing counts as
silent. See .env.example's "Fleet" section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from config.fields import parse_bool, parse_int, parse_number

FLEET_KEYS = (
    "INGEST_ENABLED",
    "INGEST_MAX_BATCH_BYTES",
    "INGEST_LIVE_WITHIN_SECONDS",
    "HOST_DEFAULT_INTERVAL_SECONDS",
    "HOST_SILENT_AFTER",
    "HOST_SILENT_CRITICAL_AFTER",
    "HOST_CHECK_INTERVAL_SECONDS",
    "HOST_SILENT_FLEET_MIN_HOSTS",
    "HOST_SILENT_FLEET_MIN_PERCENT",
)
DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024  # a day of 30 s samples is about 6 MiB of JSON before compression


class FleetSettings(NamedTuple):
    ingest_enabled: bool  # the dashboard server takes pushes (POST /api/v1/ingest and the seeds' routes)
    max_batch_bytes: int  # a push's JSON after decompression; API_MAX_BODY_BYTES bounds it on the wire
    live_within_seconds: float  # a sample collected longer ago than this is backfill: stored, not alerted as new
    default_interval_seconds: float  # for clients that do not say how often they sample (the seeds' agents)
    silent_after_intervals: float  # WARNING after this many of the host's intervals without a push
    silent_critical_after_intervals: float  # CRITICAL after this many
    check_interval_seconds: float = 10.0  # how often each hub looks for silent hosts
    fleet_min_hosts: int = 5  # this many silent hosts at once are one fleet incident; 0: never
    fleet_min_percent: float = 10.0  # ... and at least this share of the watched hosts

    def silent_after_seconds(self, interval_seconds: float | None) -> tuple[float, float]:
        """(WARNING, CRITICAL) seconds without a push for a host sampling every `interval_seconds`."""
        interval = interval_seconds or self.default_interval_seconds
        return interval * self.silent_after_intervals, interval * self.silent_critical_after_intervals


def parse_fleet_settings(values: Mapping[str, str]) -> FleetSettings:
    def get(key: str, default: str) -> str:
        value = values.get(key)
        return default if value is None or value.strip() == "" else value.strip()

    warning = parse_number("HOST_SILENT_AFTER", get("HOST_SILENT_AFTER", "3"), 1, 10000)
    critical = parse_number(
        "HOST_SILENT_CRITICAL_AFTER",
        get("HOST_SILENT_CRITICAL_AFTER", "10"),
        warning,
        10000,
        f"a number of intervals from HOST_SILENT_AFTER ({warning:g}) to 10000",
    )
    return FleetSettings(
        ingest_enabled=parse_bool("INGEST_ENABLED", get("INGEST_ENABLED", "true")),
        max_batch_bytes=parse_int(
            "INGEST_MAX_BATCH_BYTES", get("INGEST_MAX_BATCH_BYTES", str(DEFAULT_MAX_BATCH_BYTES)), 1024, 2**30
        ),
        live_within_seconds=parse_number(
            "INGEST_LIVE_WITHIN_SECONDS", get("INGEST_LIVE_WITHIN_SECONDS", "300"), 1, 86400
        ),
        default_interval_seconds=parse_number(
            "HOST_DEFAULT_INTERVAL_SECONDS", get("HOST_DEFAULT_INTERVAL_SECONDS", "30"), 1, 86400
        ),
        silent_after_intervals=warning,
        silent_critical_after_intervals=critical,
        check_interval_seconds=parse_number(
            "HOST_CHECK_INTERVAL_SECONDS", get("HOST_CHECK_INTERVAL_SECONDS", "10"), 1, 3600
        ),
        fleet_min_hosts=parse_int(
            "HOST_SILENT_FLEET_MIN_HOSTS",
            get("HOST_SILENT_FLEET_MIN_HOSTS", "5"),
            0,
            1_000_000,
            "a number of hosts from 0 (no fleet incident) to 1000000",
        ),
        fleet_min_percent=parse_number(
            "HOST_SILENT_FLEET_MIN_PERCENT", get("HOST_SILENT_FLEET_MIN_PERCENT", "10"), 0, 100
        ),
    )
