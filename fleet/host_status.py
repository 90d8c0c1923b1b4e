"""A host's status in the fleet view (API, /metrics, the page): up, silent, in maintenance or never seen.

Silent means what the silent-host alerts mean: no push (or, for a host that only has samples, such as the hub's
own monitor, no sample) for longer than FleetSettings.silent_after_seconds of its interval. The status is worked
out at read time from the stored times, so it needs no job to keep it current.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from config.fleet_settings import FleetSettings
from monitoring.catalogue import BY_NAME, FLEET_FIGURES

UP = "up"
SILENT = "silent"
MAINTENANCE = "maintenance"
NEVER_SEEN = "never seen"


def host_status(
    fleet: FleetSettings,
    now: datetime,
    last_heard_at: datetime | None,
    interval_seconds: float | None,
    maintenance_since: datetime | None,
) -> str:
    """The status of a host last heard from at `last_heard_at` (None: never), sampling every `interval_seconds`
    (None: FleetSettings' default interval). Maintenance wins: a host in maintenance is expected to be quiet."""
    if maintenance_since is not None:
        return MAINTENANCE
    if last_heard_at is None:
        return NEVER_SEEN
    warning_after_seconds, _ = fleet.silent_after_seconds(interval_seconds)
    return SILENT if (now - last_heard_at).total_seconds() > warning_after_seconds else UP


def worst_level(incidents_by_status: dict[str, int]) -> str | None:
    """The highest status among a host's active incidents: critical, warning, pending; None without any."""
    return next((status for status in _WORST_FIRST if incidents_by_status.get(status)), None)


_WORST_FIRST = ("critical", "warning", "pending")


def sampled_interval_seconds(sample: dict[str, Any]) -> float | None:
    """How often a host without an agent's word for it samples: the time between its two newest samples."""
    seconds = sample.get("sampled_every_seconds")
    return float(seconds) if seconds else None


def describe_host(fleet: FleetSettings, now: datetime, host: dict[str, Any]) -> dict[str, Any]:
    """A host of storage.fleet_queries.fleet_hosts as the API and the page show it."""
    row, sample = host["row"] or {}, host["sample"] or {}
    interval = row.get("interval_seconds") or (sampled_interval_seconds(sample) if sample else None)
    last_seen_at = row.get("last_seen_at") or sample.get("timestamp")
    return {
        "name": host["name"],
        "status": host_status(fleet, now, last_seen_at, interval, row.get("maintenance_since")),
        "worst_level": worst_level(host["incidents"]),
        "active_incidents": sum(host["incidents"].values()),
        **{name: sample.get(BY_NAME[name].machine_column) for name in FLEET_FIGURES},
        "disk_mountpoint": sample.get("disk_mountpoint"),
        "sample_at": sample.get("timestamp"),
        "last_seen_at": last_seen_at,
        "silent_after_seconds": fleet.silent_after_seconds(interval)[0],
        "interval_seconds": interval,
        "registered": bool(row),
        "has_key": bool(row["has_key"]) if row else None,
        "agent_version": row.get("agent_version"),
        "source": row.get("source"),
        "clock_skew_seconds": row.get("clock_skew_seconds"),
        "maintenance_since": row.get("maintenance_since"),
    }
