"""The graded metrics and their WARNING/CRITICAL levels, read from .env.

Every graded metric has a prefix P and reads P_THRESHOLD (WARNING) and P_CRITICAL_THRESHOLD (CRITICAL).
Every metric measured per resource (a mount point, a GPU, a network interface) also reads
P_THRESHOLD_OVERRIDES and P_CRITICAL_THRESHOLD_OVERRIDES: comma-separated `resource=value` pairs, because an
environment variable name cannot hold `/`. Example: DISK_THRESHOLD_OVERRIDES=/var/log=97,/data=off,
GPU_TEMPERATURE_THRESHOLD_OVERRIDES=0=85, NETWORK_RECV_THRESHOLD_OVERRIDES=eth1=1e8.
A value of `off` disables that level.
"""

import re
from collections.abc import Mapping

from config.fields import OFF_WORDS, ConfigError, is_set, parse_number
from monitoring.catalogue import GRADED, Metric, ResourceKind
from monitoring.levels import Levels, MetricThresholds

_GPU_RESOURCE = re.compile(r"^(\d+|(GPU|MIG)-[0-9A-Za-z-]+)$")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:\\?$")


def parse_thresholds(values: Mapping[str, str]) -> dict[str, MetricThresholds]:
    """All metrics' levels from the merged .env/environment values, validated."""
    return {spec.name: _metric_thresholds(spec, values) for spec in GRADED}


def threshold_keys() -> list[str]:
    """Every .env key this module reads (for documentation and checks)."""
    keys = []
    for spec in GRADED:
        keys += [f"{spec.env_prefix}_THRESHOLD", f"{spec.env_prefix}_CRITICAL_THRESHOLD"]
        if spec.resource_kind:
            keys += [f"{spec.env_prefix}_THRESHOLD_OVERRIDES", f"{spec.env_prefix}_CRITICAL_THRESHOLD_OVERRIDES"]
    return keys


def _metric_thresholds(spec: Metric, values: Mapping[str, str]) -> MetricThresholds:
    warning_key, critical_key = f"{spec.env_prefix}_THRESHOLD", f"{spec.env_prefix}_CRITICAL_THRESHOLD"
    default = Levels(
        _level(spec, warning_key, values.get(warning_key), spec.warning),
        _level(spec, critical_key, values.get(critical_key), spec.critical),
    )
    _check_order(
        default,
        values,
        warning_key,
        critical_key,
        f"{warning_key} ({_show(default.warning)})",
        f"{critical_key} ({_show(default.critical)})",
    )
    if spec.resource_kind is None:
        return MetricThresholds(spec, default)

    warning_overrides_key, critical_overrides_key = f"{warning_key}_OVERRIDES", f"{critical_key}_OVERRIDES"
    warning_overrides = _overrides(spec, warning_overrides_key, values)
    critical_overrides = _overrides(spec, critical_overrides_key, values)
    thresholds = MetricThresholds(spec, default, warning_overrides, critical_overrides)
    for resource in thresholds.overridden_resources:
        levels = thresholds.levels_for(resource)
        _check_order(
            levels,
            values,
            warning_overrides_key if resource in warning_overrides else warning_key,
            critical_overrides_key if resource in critical_overrides else critical_key,
            f"the WARNING level for {resource} ({_show(levels.warning)})",
            f"the CRITICAL level for {resource} ({_show(levels.critical)})",
        )
    return thresholds


def _check_order(
    levels: Levels,
    values: Mapping[str, str],
    warning_key: str,
    critical_key: str,
    warning_name: str,
    critical_name: str,
) -> None:
    """WARNING must not exceed CRITICAL; blame the key the user set (the WARNING one when both are set)."""
    if levels.warning is None or levels.critical is None or levels.warning <= levels.critical:
        return
    if not is_set(values.get(warning_key)) and is_set(values.get(critical_key)):
        raise ConfigError(critical_key, values[critical_key], f"a CRITICAL level not below {warning_name}")
    raise ConfigError(warning_key, values.get(warning_key), f"a WARNING level not above {critical_name}")


def _allowed(spec: Metric) -> str:
    return f"a number from 0 to {spec.maximum:g}, or off"


def _level(spec: Metric, key: str, raw: str | None, default: float | None) -> float | None:
    if raw is None or not is_set(raw):
        return default
    if raw.strip().casefold() in OFF_WORDS:
        return None
    return parse_number(key, raw, 0, spec.maximum, _allowed(spec))


def _show(level: float | None) -> str:
    return "off" if level is None else f"{level:g}"


def _overrides(spec: Metric, key: str, values: Mapping[str, str]) -> dict[str, float | None]:
    raw = values.get(key) or ""
    allowed = f"comma-separated {_resource_help(spec)}=VALUE pairs, VALUE {_allowed(spec)}"
    parsed: dict[str, float | None] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        given, sep, value = item.rpartition("=")
        resource = _normalize_resource(spec, given.strip())
        if not sep or resource is None or resource in parsed or not value.strip():
            raise ConfigError(key, raw, allowed)
        try:
            parsed[resource] = _level(spec, key, value, None)
        except ConfigError:
            raise ConfigError(key, raw, allowed) from None
    return parsed


_RESOURCE_HELP = {
    ResourceKind.MOUNT: "MOUNT (e.g. /var or C:\\)",
    ResourceKind.GPU: "GPU (index or UUID)",
    ResourceKind.INTERFACE: "INTERFACE (e.g. eth0)",
}


def _resource_help(spec: Metric) -> str:
    return _RESOURCE_HELP[spec.resource_kind] if spec.resource_kind is not None else ""


def _normalize_resource(spec: Metric, name: str) -> str | None:
    """Canonical resource name, or None when it is not a valid name for this kind of resource."""
    if spec.resource_kind is ResourceKind.GPU:
        return name if _GPU_RESOURCE.match(name) else None
    if spec.resource_kind is ResourceKind.INTERFACE:
        return name or None  # names are the OS's own (Windows' hold spaces): any but empty
    return normalize_mountpoint(name)


def normalize_mountpoint(name: str) -> str | None:
    """`/var/` -> `/var`, `c:` -> `C:\\`; None for something that is not a mount point."""
    if _WINDOWS_DRIVE.match(name):
        return name[:2].upper() + "\\"
    if name.startswith("/"):
        return name.rstrip("/") or "/"
    return None
