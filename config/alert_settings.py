"""Settings that turn graded samples into incidents: how long a breach must last, hysteresis, reminders,
flapping, and the disk-full prediction. See .env.example's "Alerts" section."""

from __future__ import annotations

import re
from collections.abc import Mapping

from config.fields import ConfigError, parse_int, parse_number
from monitoring.catalogue import GRADED
from monitoring.incidents import AlertSettings

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_SECONDS_PER_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION_HELP = "a duration such as 90, 90s, 5m, 2h or 1d, at most 30d"


ALERT_KEYS = (
    "ALERT_FOR",
    "ALERT_HYSTERESIS",
    "ALERT_REPEAT_MINUTES",
    "ALERT_FLAP_COUNT",
    "ALERT_FLAP_WINDOW",
    "ALERT_DISK_PREDICT_HOURS",
    "ALERT_DISK_FULL_WITHIN_HOURS",
    *(f"{spec.env_prefix}_ALERT_FOR" for spec in GRADED),
)


def parse_duration(key: str, raw: str, maximum_seconds: float = 30 * 86400) -> float:
    """Seconds from `90`, `90s`, `5m`, `2h` or `1d`."""
    match = _DURATION.match(raw)
    if match is None:
        raise ConfigError(key, raw, DURATION_HELP)
    seconds = float(match.group(1)) * _SECONDS_PER_UNIT[match.group(2).lower()]
    if seconds > maximum_seconds:
        raise ConfigError(key, raw, DURATION_HELP)
    return seconds


def parse_alert_settings(values: Mapping[str, str]) -> AlertSettings:
    def get(key: str, default: str) -> str:
        value = values.get(key)
        return default if value is None or value.strip() == "" else value

    general_for = parse_duration("ALERT_FOR", get("ALERT_FOR", "0"))
    for_seconds = {
        spec.name: parse_duration(f"{spec.env_prefix}_ALERT_FOR", get(f"{spec.env_prefix}_ALERT_FOR", str(general_for)))
        for spec in GRADED
    }
    return AlertSettings(
        for_seconds=for_seconds,
        hysteresis_points=parse_number("ALERT_HYSTERESIS", get("ALERT_HYSTERESIS", "5"), 0, 100),
        repeat_seconds=60 * parse_number("ALERT_REPEAT_MINUTES", get("ALERT_REPEAT_MINUTES", "60"), 0, 525600),
        flap_count=parse_int("ALERT_FLAP_COUNT", get("ALERT_FLAP_COUNT", "3"), 1, 1000),
        flap_window_seconds=parse_duration("ALERT_FLAP_WINDOW", get("ALERT_FLAP_WINDOW", "30m")),
        disk_predict_hours=parse_number("ALERT_DISK_PREDICT_HOURS", get("ALERT_DISK_PREDICT_HOURS", "6"), 0.25, 720),
        disk_full_within_hours=parse_number(
            "ALERT_DISK_FULL_WITHIN_HOURS", get("ALERT_DISK_FULL_WITHIN_HOURS", "24"), 0, 8760
        ),
    )
