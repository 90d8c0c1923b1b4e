"""The disk-full forecast of each mount as measurements (metric disk_full_prediction), graded and turned into
incidents like any other: the value is the mount's usage the trend projects ALERT_DISK_FULL_WITHIN_HOURS ahead,
in percent of its capacity now, so the default level (above 100 %) means "full within that time"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from alerts.disk_forecast import DiskForecast, forecast_disk
from config.alert_settings import AlertSettings
from scripts.monitoring.alert_text import format_duration
from scripts.monitoring.grading import Measurement
from scripts.monitoring.sample import GIB, Sample

DISK_FULL_METRIC = "disk_full_prediction"


def forecast_measurements(sample: Sample, history: Mapping[str, Sequence[tuple[datetime, float]]],
                          settings: AlertSettings) -> list[Measurement]:
    """One measurement per mount with enough history (see alerts.disk_forecast); none when forecasting is off."""
    if sample.disks is None or not settings.disk_full_within_hours:
        return []
    window_seconds, horizon_seconds = settings.disk_predict_hours * 3600, settings.disk_full_within_hours * 3600
    found = []
    for disk in sample.disks.mounts:
        forecast = forecast_disk(history.get(disk.mountpoint, ()), disk.used_bytes, disk.used_bytes + disk.free_bytes,
                                 sample.timestamp, window_seconds, horizon_seconds)
        if forecast is not None:
            found.append(Measurement(DISK_FULL_METRIC, forecast.projected_percent, disk.mountpoint,
                                     (disk.mountpoint,), f"{disk.mountpoint} in {settings.disk_full_within_hours:g}h",
                                     forecast_detail(forecast, sample.timestamp)))
    return found


def forecast_detail(forecast: DiskForecast, now: datetime) -> str:
    """`full at 2025-10-27T20:31:07+02:00, in 6h 5m; trend +1.20GB/h over 5h 55m`, in this host's time zone."""
    trend = f"trend {forecast.bytes_per_second * 3600 / GIB:+.2f}GB/h over {format_duration(forecast.span_seconds)}"
    if forecast.full_at is None:
        return f"{trend}, not filling"
    full_in = format_duration((forecast.full_at - now).total_seconds())
    return f"full at {forecast.full_at.astimezone().isoformat(timespec='seconds')}, in {full_in}; {trend}"
