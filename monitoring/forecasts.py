"""The disk-full forecast of each mount as measurements (metric disk_full_prediction), graded and turned into
incidents like any other: the value is the mount's usage the trend projects ALERT_DISK_FULL_WITHIN_HOURS ahead,
in percent of its capacity now, so the default level (above 100 %) means "full within that time"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from monitoring.alert_text import format_duration
from monitoring.catalogue import ResourceKind
from monitoring.disk_forecast import DiskForecast, forecast_disk
from monitoring.figures import Figures
from monitoring.grading import Measurement
from monitoring.incidents import AlertSettings
from monitoring.units import GIB

PRODUCES = ("disk_full_prediction",)


def forecast_measurements(
    figures: Figures,
    taken_at: datetime,
    history: Mapping[str, Sequence[tuple[datetime, float]]],
    settings: AlertSettings,
) -> list[Measurement]:
    """One measurement per mount with enough history (see monitoring.disk_forecast); none when forecasting is
    off. The capacity is what users may fill: used plus free (root's reserved blocks left out)."""
    if not settings.disk_full_within_hours:
        return []
    window_seconds, horizon_seconds = settings.disk_predict_hours * 3600, settings.disk_full_within_hours * 3600
    found = []
    for mount in figures.of_kind(ResourceKind.MOUNT):
        used_bytes, free_bytes = mount.values.get("disk_used_bytes"), mount.values.get("disk_free_bytes")
        if used_bytes is None or free_bytes is None:
            continue
        forecast = forecast_disk(
            history.get(mount.key, ()),
            float(used_bytes),
            float(used_bytes + free_bytes),
            taken_at,
            window_seconds,
            horizon_seconds,
        )
        if forecast is not None:
            found.append(
                Measurement(
                    PRODUCES[0],
                    forecast.projected_percent,
                    mount.key,
                    mount.override_names,
                    f"{mount.display} in {settings.disk_full_within_hours:g}h",
                    forecast_detail(forecast, taken_at),
                )
            )
    return found


def forecast_detail(forecast: DiskForecast, now: datetime) -> str:
    """`full at 2025-10-27T20:31:07+02:00, in 6h 5m; trend +1.20GB/h over 5h 55m`, in this host's time zone."""
    trend = f"trend {forecast.bytes_per_second * 3600 / GIB:+.2f}GB/h over {format_duration(forecast.span_seconds)}"
    if forecast.full_at is None:
        return f"{trend}, not filling"
    full_in = format_duration((forecast.full_at - now).total_seconds())
    return f"full at {forecast.full_at.astimezone().isoformat(timespec='seconds')}, in {full_in}; {trend}"
