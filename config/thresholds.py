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
from types import MappingProxyType
from typing import NamedTuple

from config.fields import OFF_WORDS, ConfigError, is_set, parse_number

_GPU_RESOURCE = re.compile(r"^(\d+|(GPU|MIG)-[0-9A-Za-z-]+)$")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:\\?$")
MOUNT, GPU, INTERFACE = "mount", "gpu", "interface"  # the kinds of resource a metric is measured per
# How far below its threshold an active incident must fall to leave that level (see `recovery_margin`).
POINTS, PERCENT_OF_THRESHOLD, NO_HYSTERESIS = "points", "percent", "none"


class MetricSpec(NamedTuple):
    """One graded metric: its id in notifications.metric, its .env prefix, label, unit, bounds and defaults.
    A metric with a `resource_kind` is measured per resource and takes per-resource overrides."""

    key: str
    env_prefix: str
    label: str  # in alert lines: "CPU usage is 85.5% ..."
    short_name: str  # in the report's Thresholds block and as Nagios perfdata label
    unit: str
    maximum: float
    warning: float | None
    critical: float | None
    resource_kind: str | None = None  # MOUNT, GPU or INTERFACE for metrics measured per resource
    hysteresis: str = POINTS

    def recovery_margin(self, threshold: float, hysteresis_points: float) -> float:
        """ALERT_HYSTERESIS as points on a 0-100 scale (percentages, degrees); as a percentage of the threshold
        for unbounded figures (load, rates), where 5 points would mean nothing or never recover; none for a
        prediction, which recovers as soon as it no longer predicts the breach."""
        if self.hysteresis == NO_HYSTERESIS:
            return 0.0
        if self.hysteresis == PERCENT_OF_THRESHOLD:
            return threshold * hysteresis_points / 100
        return hysteresis_points


# In the order of the report's Thresholds block (the seed's CPU, Memory, Disk first).
METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("cpu_percent", "CPU", "CPU usage", "CPU", "%", 100, 80, 95),
    MetricSpec("memory_percent", "MEMORY", "Memory usage", "Memory", "%", 100, 85, 95),
    MetricSpec("disk_percent", "DISK", "Disk usage", "Disk", "%", 100, 90, 95, MOUNT),
    # The disk-usage trend's value ALERT_DISK_FULL_WITHIN_HOURS ahead, in percent of the mount's capacity.
    MetricSpec("disk_full_prediction", "DISK_FULL", "Projected disk usage", "Disk full", "%", 100, 100, None, MOUNT,
               NO_HYSTERESIS),
    MetricSpec("swap_percent", "SWAP", "Swap usage", "Swap", "%", 100, 80, 95),
    MetricSpec("load_per_core", "LOAD", "Load average (5 min) per core", "Load", "", 1000, 2.0, 4.0,
               hysteresis=PERCENT_OF_THRESHOLD),
    MetricSpec("gpu_utilization_percent", "GPU_UTILIZATION", "GPU utilization", "GPU util", "%", 100, 90, 95, GPU),
    MetricSpec("gpu_memory_percent", "GPU_MEMORY", "GPU memory usage", "GPU mem", "%", 100, 90, 95, GPU),
    MetricSpec("gpu_temperature_celsius", "GPU_TEMPERATURE", "GPU temperature", "GPU temp", "C", 150, 80, 90, GPU),
    # Per interface, off by default; errors and drops are inbound plus outbound.
    *(MetricSpec(key, prefix, label, short, unit, maximum, None, None, INTERFACE, PERCENT_OF_THRESHOLD)
      for key, prefix, label, short, unit, maximum in (
          ("network_recv_bytes_per_second", "NETWORK_RECV", "Network receive rate", "Net recv", "B/s", 1e12),
          ("network_sent_bytes_per_second", "NETWORK_SENT", "Network send rate", "Net sent", "B/s", 1e12),
          ("network_errors_per_second", "NETWORK_ERRORS", "Network errors", "Net errors", "/s", 1e9),
          ("network_drops_per_second", "NETWORK_DROPS", "Network drops", "Net drops", "/s", 1e9),
      )),
)
METRICS_BY_KEY: dict[str, MetricSpec] = {spec.key: spec for spec in METRICS}


class Levels(NamedTuple):
    """WARNING and CRITICAL levels of one metric (or one resource of it); None means that level is off."""

    warning: float | None
    critical: float | None


class MetricThresholds(NamedTuple):
    spec: MetricSpec
    default: Levels
    warning_overrides: Mapping[str, float | None] = MappingProxyType({})
    critical_overrides: Mapping[str, float | None] = MappingProxyType({})

    def levels_for(self, *resource_names: str | None) -> Levels:
        """Each level from the first name that overrides it (a GPU's UUID before its index), else the default."""
        return Levels(_first(self.warning_overrides, resource_names, self.default.warning),
                      _first(self.critical_overrides, resource_names, self.default.critical))

    @property
    def overridden_resources(self) -> list[str]:
        return list({**self.warning_overrides, **self.critical_overrides})


def _first(overrides: Mapping[str, float | None], names: tuple[str | None, ...], default: float | None) -> float | None:
    return next((overrides[name] for name in names if name is not None and name in overrides), default)


def parse_thresholds(values: Mapping[str, str]) -> dict[str, MetricThresholds]:
    """All metrics' levels from the merged .env/environment values, validated."""
    return {spec.key: _metric_thresholds(spec, values) for spec in METRICS}


def threshold_keys() -> list[str]:
    """Every .env key this module reads (for documentation and checks)."""
    keys = []
    for spec in METRICS:
        keys += [f"{spec.env_prefix}_THRESHOLD", f"{spec.env_prefix}_CRITICAL_THRESHOLD"]
        if spec.resource_kind:
            keys += [f"{spec.env_prefix}_THRESHOLD_OVERRIDES", f"{spec.env_prefix}_CRITICAL_THRESHOLD_OVERRIDES"]
    return keys


def _metric_thresholds(spec: MetricSpec, values: Mapping[str, str]) -> MetricThresholds:
    warning_key, critical_key = f"{spec.env_prefix}_THRESHOLD", f"{spec.env_prefix}_CRITICAL_THRESHOLD"
    default = Levels(
        _level(spec, warning_key, values.get(warning_key), spec.warning),
        _level(spec, critical_key, values.get(critical_key), spec.critical),
    )
    _check_order(default, values, warning_key, critical_key, f"{warning_key} ({_show(default.warning)})",
                 f"{critical_key} ({_show(default.critical)})")
    if spec.resource_kind is None:
        return MetricThresholds(spec, default)

    warning_overrides_key, critical_overrides_key = f"{warning_key}_OVERRIDES", f"{critical_key}_OVERRIDES"
    warning_overrides = _overrides(spec, warning_overrides_key, values)
    critical_overrides = _overrides(spec, critical_overrides_key, values)
    thresholds = MetricThresholds(spec, default, warning_overrides, critical_overrides)
    for resource in thresholds.overridden_resources:
        levels = thresholds.levels_for(resource)
        _check_order(levels, values,
                     warning_overrides_key if resource in warning_overrides else warning_key,
                     critical_overrides_key if resource in critical_overrides else critical_key,
                     f"the WARNING level for {resource} ({_show(levels.warning)})",
                     f"the CRITICAL level for {resource} ({_show(levels.critical)})")
    return thresholds


def _check_order(levels: Levels, values: Mapping[str, str], warning_key: str, critical_key: str,
                 warning_name: str, critical_name: str) -> None:
    """WARNING must not exceed CRITICAL; blame the key the user set (the WARNING one when both are set)."""
    if levels.warning is None or levels.critical is None or levels.warning <= levels.critical:
        return
    if not is_set(values.get(warning_key)) and is_set(values.get(critical_key)):
        raise ConfigError(critical_key, values[critical_key], f"a CRITICAL level not below {warning_name}")
    raise ConfigError(warning_key, values.get(warning_key), f"a WARNING level not above {critical_name}")


def _allowed(spec: MetricSpec) -> str:
    return f"a number from 0 to {spec.maximum:g}, or off"


def _level(spec: MetricSpec, key: str, raw: str | None, default: float | None) -> float | None:
    if raw is None or not is_set(raw):
        return default
    if raw.strip().casefold() in OFF_WORDS:
        return None
    return parse_number(key, raw, 0, spec.maximum, _allowed(spec))


def _show(level: float | None) -> str:
    return "off" if level is None else f"{level:g}"


def _overrides(spec: MetricSpec, key: str, values: Mapping[str, str]) -> dict[str, float | None]:
    raw = values.get(key) or ""
    allowed = (
        f"comma-separated {_resource_help(spec)}=VALUE pairs, VALUE {_allowed(spec)}"
    )
    parsed: dict[str, float | None] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        resource, sep, value = item.rpartition("=")
        resource = _normalize_resource(spec, resource.strip())
        if not sep or resource is None or resource in parsed or not value.strip():
            raise ConfigError(key, raw, allowed)
        try:
            parsed[resource] = _level(spec, key, value, None)
        except ConfigError:
            raise ConfigError(key, raw, allowed) from None
    return parsed


_RESOURCE_HELP = {MOUNT: "MOUNT (e.g. /var or C:\\)", GPU: "GPU (index or UUID)", INTERFACE: "INTERFACE (e.g. eth0)"}


def _resource_help(spec: MetricSpec) -> str:
    return _RESOURCE_HELP[spec.resource_kind or ""]


def _normalize_resource(spec: MetricSpec, name: str) -> str | None:
    """Canonical resource name, or None when it is not a valid name for this kind of resource."""
    if spec.resource_kind == GPU:
        return name if _GPU_RESOURCE.match(name) else None
    if spec.resource_kind == INTERFACE:
        return name or None  # names are the OS's own (Windows' hold spaces): any but empty
    return normalize_mountpoint(name)


def normalize_mountpoint(name: str) -> str | None:
    """`/var/` -> `/var`, `c:` -> `C:\\`; None for something that is not a mount point."""
    if _WINDOWS_DRIVE.match(name):
        return name[:2].upper() + "\\"
    if name.startswith("/"):
        return name.rstrip("/") or "/"
    return None
