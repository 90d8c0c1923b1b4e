"""The graded metrics and their WARNING/CRITICAL levels, read from .env.

Every graded metric has a prefix P and reads P_THRESHOLD (WARNING) and P_CRITICAL_THRESHOLD (CRITICAL), and
P_THRESHOLD_OVERRIDES and P_CRITICAL_THRESHOLD_OVERRIDES: comma-separated `name=value` entries, because an
environment variable name cannot hold `/`. A name is a resource of a metric measured per resource (a mount
point, a GPU, a network interface), `@host` (every sample of that host, as a fleet hub grades many) or
`@host:resource`. Examples: DISK_THRESHOLD_OVERRIDES=/var/log=97,/data=off,@db1:/data=85,
GPU_TEMPERATURE_THRESHOLD_OVERRIDES=0=85, NETWORK_RECV_THRESHOLD_OVERRIDES=eth1=1e8,
CPU_THRESHOLD_OVERRIDES=@build1=95,@gpu-box=off. A value of `off` disables that level.
"""

import re
from collections.abc import Mapping

from config.fields import OFF_WORDS, ConfigError, is_set, parse_number
from monitoring.catalogue import GRADED, Metric, ResourceKind
from monitoring.levels import HOST_MARK, HOST_SEPARATOR, Levels, MetricThresholds, host_key, override_keys

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
    warning_overrides_key, critical_overrides_key = f"{warning_key}_OVERRIDES", f"{critical_key}_OVERRIDES"
    warning_overrides = _overrides(spec, warning_overrides_key, values)
    critical_overrides = _overrides(spec, critical_overrides_key, values)
    thresholds = MetricThresholds(spec, default, warning_overrides, critical_overrides)
    for host in (None, *thresholds.hosts):
        for resource in (None, *thresholds.resources_named(host)):
            if host is None and resource is None:
                continue  # the default, checked above
            keys = override_keys((resource,), host)
            levels = thresholds.levels_for(resource, host=host)
            where = _where(resource, host)
            _check_order(
                levels,
                values,
                warning_overrides_key if any(key in warning_overrides for key in keys) else warning_key,
                critical_overrides_key if any(key in critical_overrides for key in keys) else critical_key,
                f"the WARNING level for {where} ({_show(levels.warning)})",
                f"the CRITICAL level for {where} ({_show(levels.critical)})",
            )
    return thresholds


def _where(resource: str | None, host: str | None) -> str:
    """`/var/log`, `@db1` or `/data on @db1`: what a combination of overrides applies to."""
    if host is None:
        return str(resource)
    return host_key(host) if resource is None else f"{resource} on {host_key(host)}"


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
    """The entries of one OVERRIDES key by override key (`/var/log`, `@db1`, `@db1:/data`); each named once."""
    raw = values.get(key) or ""
    parsed: dict[str, float | None] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        given, sep, value = entry.rpartition("=")
        name = _override_key(spec, given.strip()) if sep and value.strip() else None
        if name is None or name in parsed:
            raise ConfigError(key, raw, _expected_entries(spec, entry))
        try:
            parsed[name] = _level(spec, key, value, None)
        except ConfigError:
            raise ConfigError(key, raw, _expected_entries(spec, entry)) from None
    return parsed


def _override_key(spec: Metric, given: str) -> str | None:
    """The canonical key of an entry's name, or None when the name is not valid for this metric."""
    if given.startswith(HOST_MARK):
        host, sep, resource = given[len(HOST_MARK) :].partition(HOST_SEPARATOR)
        host = host.strip()
        if not host or len(host) > _HOST_NAME_MAX_LENGTH:
            return None
        if not sep:
            return host_key(host)
        normalized = _normalize_resource(spec, resource.strip()) if spec.resource_kind is not None else None
        return None if normalized is None else host_key(host, normalized)
    return _normalize_resource(spec, given) if spec.resource_kind is not None else None


_HOST_NAME_MAX_LENGTH = 255  # as MONITOR_HOSTNAME and hosts.name


def _expected_entries(spec: Metric, entry: str) -> str:
    if spec.resource_kind is None:
        names = (
            f"@HOST=VALUE entries ({spec.env_prefix} is measured once per machine, so an entry names a host, "
            f"not a resource), each host once"
        )
    else:
        resource = _resource_help(spec)
        names = f"{resource}=VALUE, @HOST=VALUE or @HOST:{resource.split()[0]}=VALUE entries, each named once"
    return f"comma-separated {names}, HOST a host name without ':', VALUE {_allowed(spec)}; not the entry {entry!r}"


_RESOURCE_HELP = {
    ResourceKind.MOUNT: "MOUNT (e.g. /var or C:\\)",
    ResourceKind.GPU: "GPU (index or UUID)",
    ResourceKind.INTERFACE: "INTERFACE (e.g. eth0)",
    ResourceKind.CONTAINER: "CONTAINER (a name; * and ? match any characters, e.g. web-*)",
}


def _resource_help(spec: Metric) -> str:
    return _RESOURCE_HELP[spec.resource_kind] if spec.resource_kind is not None else ""


def _normalize_resource(spec: Metric, name: str) -> str | None:
    """Canonical resource name, or None when it is not a valid name for this kind of resource."""
    if spec.resource_kind is ResourceKind.GPU:
        return name if _GPU_RESOURCE.match(name) else None
    if spec.resource_kind in (ResourceKind.INTERFACE, ResourceKind.CONTAINER):
        return name or None  # names are the OS's or the engine's own (Windows' hold spaces): any but empty
    return normalize_mountpoint(name)


def normalize_mountpoint(name: str) -> str | None:
    """`/var/` -> `/var`, `c:` -> `C:\\`; None for something that is not a mount point."""
    if _WINDOWS_DRIVE.match(name):
        return name[:2].upper() + "\\"
    if name.startswith("/"):
        return name.rstrip("/") or "/"
    return None
