"""Disk filling up: a least-squares line through a mount's used bytes over the last ALERT_DISK_PREDICT_HOURS,
extended ALERT_DISK_FULL_WITHIN_HOURS ahead. Pure: the history comes from storage.metrics_store.

A fit needs at least MIN_SAMPLES samples (the current one included) spanning at least MIN_SPAN_FRACTION of the
window, so that two noisy samples, or a few minutes of history, predict nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

MIN_SAMPLES = 3
MIN_SPAN_FRACTION = 0.25


class DiskForecast(NamedTuple):
    bytes_per_second: float  # the trend's slope; <= 0 when the mount is not filling
    projected_percent: float  # the trend's value `horizon_seconds` ahead, in percent of the capacity now
    full_at: datetime | None  # when the trend reaches the capacity (now, if it already has); None if not filling
    span_seconds: float  # from the oldest sample used to now


def forecast_disk(
    history: Sequence[tuple[datetime, float]],
    used_bytes: float,
    capacity_bytes: float,
    now: datetime,
    window_seconds: float,
    horizon_seconds: float,
) -> DiskForecast | None:
    """The trend of `history` (time, used bytes) within `window_seconds` before `now` plus the current
    `used_bytes`; None when there is too little of it or no capacity."""
    points = [(moment, used) for moment, used in history if 0 < (now - moment).total_seconds() <= window_seconds]
    points.append((now, used_bytes))
    seconds = [(moment - now).total_seconds() for moment, _ in points]
    span_seconds = -min(seconds)
    if capacity_bytes <= 0 or len(points) < MIN_SAMPLES or span_seconds < MIN_SPAN_FRACTION * window_seconds:
        return None
    slope, used_now = _least_squares([(x, used) for x, (_, used) in zip(seconds, points, strict=True)])
    projected_percent = 100.0 * (used_now + slope * horizon_seconds) / capacity_bytes
    full_at = None
    if slope > 0:
        full_at = now + timedelta(seconds=max(capacity_bytes - used_now, 0.0) / slope)
    return DiskForecast(slope, projected_percent, full_at, span_seconds)


def _least_squares(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Slope and value at x = 0 of the least-squares line, x centred for precision. Written out rather than
    statistics.linear_regression: importing statistics costs a one-shot run about 4 ms."""
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return slope, mean_y - slope * mean_x
