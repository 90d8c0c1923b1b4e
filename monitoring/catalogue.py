"""The metric catalogue: one declaration per metric, and the one place that knows each metric's unit, kind,
storage column, .env levels, hysteresis, Prometheus name, API series and labels.

Everything else derives from it: the threshold settings (config.thresholds), grading (monitoring.grading), the
tables' metric columns (storage.tables), the rows a sample is stored as (storage.sample_rows), the Prometheus
exposition and its alert rules (dashboard.prometheus, `main.py prometheus-rules`), the API's series and the page's
labels and levels (`GET /monitoring/catalogue`). A collector declares the metrics it produces (its PRODUCES) and
hands their values over by these names (monitoring.figures).

Metrics are declared in the order people read them: the report's Thresholds block and the API list the graded
ones in this order (the seed's CPU, memory and disk first). Units are honest: the seed's `*_gb` columns hold GiB
and its `*_mb` columns MiB, and keep those names because the seed's SQL uses them.
"""

from __future__ import annotations

from typing import NamedTuple

from monitoring.text_enum import TextEnum
from monitoring.units import GIB, MIB


class Kind(TextEnum):
    GAUGE = "gauge"  # a level as read (memory in use)
    COUNTER = "counter"  # cumulative since boot as the OS counts it; the next sample's rates start from it
    RATE = "rate"  # derived from two readings of counters (per second, or a share of the time that passed)


class ResourceKind(TextEnum):
    """What a per-resource metric is measured per; a metric of the whole machine has none."""

    CORE = "core"
    MOUNT = "mount"
    INTERFACE = "interface"
    GPU = "gpu"
    SENSOR = "sensor"
    CONTAINER = "container"


class Hysteresis(TextEnum):
    """How far below its threshold an active incident must fall to leave that level (ALERT_HYSTERESIS)."""

    POINTS = "points"  # as points on a 0-100 scale: percentages, degrees
    PERCENT_OF_THRESHOLD = "percent"  # as a percentage of the threshold: unbounded figures (load, rates)
    NONE = "none"  # a prediction recovers as soon as it no longer predicts the breach


class ValueType(TextEnum):
    FLOAT = "float"
    INTEGER = "integer"
    BIG_INTEGER = "big_integer"  # byte and operation counters, sizes in bytes
    BOOLEAN = "boolean"


class Unit(TextEnum):
    """A metric's unit as the API and the page show it."""

    PERCENT = "%"
    GIB = "GiB"
    MIB = "MiB"
    BYTES = "B"
    BYTES_PER_SECOND = "B/s"
    PER_SECOND = "/s"
    CELSIUS = "C"
    WATTS = "W"
    MHZ = "MHz"
    SECONDS = "s"
    MBIT_PER_SECOND = "Mbit/s"
    NUMBER = ""  # counts, load averages
    FLAG = "flag"  # 1 yes, 0 no: a container's lifecycle states


class Metric(NamedTuple):
    """One metric.

    Storage: a machine-wide metric is stored in system_metrics.`column`; a per-resource one in `column` of its
    resource's detail table, and, where the machine has a figure of its own (the system disk's usage, the sum over
    the interfaces), that figure in system_metrics.`host_column`.
    Grading: a metric with an `env_prefix` P is graded against P_THRESHOLD and P_CRITICAL_THRESHOLD (defaults
    `warning` and `critical`, at most `maximum`; per-resource metrics also take P_THRESHOLD_OVERRIDES and
    P_CRITICAL_THRESHOLD_OVERRIDES). `share_of` names the part and the whole it is a share of (its alert detail;
    a share of nothing is not graded), `detail` a template of other figures of the same scope for its alert
    detail, `explained_by` the top-process list ('cpu' or 'memory') an alert on it names.
    Exposition: `prometheus` is the name after the `automation_` namespace (a counter's without `_total`), whose
    value is the stored one times `prometheus_scale` (base units); `rule_expression` stands for the metric in
    Prometheus alert rules where it is not a series of its own. `series` is the /api/v1/metrics/<series> route
    its machine-wide column is listed in; `charted` columns are averaged per bucket by /monitoring/metrics.
    `summary` metrics have a line of their own in the report and a tile on the page.
    """

    name: str
    unit: Unit
    kind: Kind
    label: str  # for people: "CPU usage is 85.5% ..."
    help: str  # one sentence: what it is
    resource_kind: ResourceKind | None = None
    column: str | None = None
    host_column: str | None = None
    value_type: ValueType = ValueType.FLOAT
    required: bool = False  # always present where its resource is (NOT NULL)
    env_prefix: str | None = None
    warning: float | None = None
    critical: float | None = None
    maximum: float = 100.0
    hysteresis: Hysteresis = Hysteresis.POINTS
    short_name: str | None = None  # the report's Thresholds block, Nagios perfdata labels
    chart_label: str | None = None  # the page's tiles and charts; short_name when not set
    share_of: tuple[str, str] | None = None
    detail: str | None = None
    explained_by: str | None = None
    prometheus: str | None = None
    prometheus_scale: float = 1.0
    rule_expression: str | None = None
    series: str | None = None
    charted: bool = False
    summary: bool = False

    @property
    def graded(self) -> bool:
        return self.env_prefix is not None

    @property
    def short_label(self) -> str:
        """Its name in the report and in Nagios perfdata (its label where it has no short name)."""
        return self.short_name or self.label

    @property
    def page_label(self) -> str:
        """Its name on the page's tiles and charts."""
        return self.chart_label or self.short_label

    @property
    def machine_column(self) -> str | None:
        """The system_metrics column holding the machine-wide figure, if any."""
        return self.column if self.resource_kind is None else self.host_column

    def recovery_margin(self, threshold: float, hysteresis_points: float) -> float:
        """ALERT_HYSTERESIS as this metric's hysteresis mode reads it."""
        if self.hysteresis is Hysteresis.NONE:
            return 0.0
        if self.hysteresis is Hysteresis.PERCENT_OF_THRESHOLD:
            return threshold * hysteresis_points / 100
        return hysteresis_points


_CORE, _MOUNT, _INTERFACE = ResourceKind.CORE, ResourceKind.MOUNT, ResourceKind.INTERFACE
_GPU, _SENSOR, _CONTAINER = ResourceKind.GPU, ResourceKind.SENSOR, ResourceKind.CONTAINER
_GAUGE, _COUNTER, _RATE = Kind.GAUGE, Kind.COUNTER, Kind.RATE
_INTEGER, _BIG, _BOOLEAN = ValueType.INTEGER, ValueType.BIG_INTEGER, ValueType.BOOLEAN
_BY_RATE = Hysteresis.PERCENT_OF_THRESHOLD
_LINK = "link {network_speed_mbps} Mbit/s"


def _interface_counter(name: str, column: str, prometheus: str, help_text: str) -> Metric:
    """An interface's cumulative counter, as psutil reads it."""
    return Metric(
        name,
        unit=Unit.BYTES if "bytes" in column else Unit.NUMBER,
        kind=_COUNTER,
        label=help_text,
        help=help_text,
        resource_kind=_INTERFACE,
        column=column,
        value_type=_BIG,
        required=True,
        prometheus=prometheus,
    )


def _interface_rate(name: str, column: str, unit: Unit, label: str, host_column: str | None = None) -> Metric:
    """An interface's rate since the previous sample; `host_column` holds the sum over the interfaces."""
    return Metric(
        name,
        unit=unit,
        kind=_RATE,
        label=label,
        help=f"{label} since the previous sample",
        resource_kind=_INTERFACE,
        column=column,
        host_column=host_column,
        series="network" if host_column else None,
    )


def _device_io(
    name: str,
    column: str,
    kind: Kind,
    unit: Unit,
    help_text: str,
    prometheus: str | None = None,
    resource_kind: ResourceKind | None = _MOUNT,
    series: str | None = None,
) -> Metric:
    """Disk I/O of a mount's device (or, without a resource kind, of every device together)."""
    return Metric(
        name,
        unit=unit,
        kind=kind,
        label=help_text,
        help=help_text,
        resource_kind=resource_kind,
        column=column,
        value_type=_BIG if kind is _COUNTER else ValueType.FLOAT,
        prometheus=prometheus,
        series=series,
        charted=series is not None and "bytes" in name,
    )


def _container_flag(
    name: str, label: str, help_text: str, short_name: str, critical: bool = False, column: str | None = None
) -> Metric:
    """A container's lifecycle state as 1 (yes) or 0 (no), graded on by default: a level of 0 fires on yes, as
    WARNING (or CRITICAL); `column` where the next sample reads it back."""
    return Metric(
        name,
        unit=Unit.FLAG,
        kind=_GAUGE,
        label=label,
        help=help_text,
        resource_kind=_CONTAINER,
        column=column,
        value_type=_INTEGER if column else ValueType.FLOAT,
        env_prefix=name.upper(),
        warning=None if critical else 0,
        critical=0 if critical else None,
        maximum=1,
        hysteresis=Hysteresis.NONE,
        short_name=short_name,
    )


CATALOGUE: tuple[Metric, ...] = (
    # --- CPU ----------------------------------------------------------------------------------------------------
    Metric(
        "cpu_percent",
        unit=Unit.PERCENT,
        kind=_RATE,
        label="CPU usage",
        help="Busy share of all CPUs since the previous sample",
        column="cpu_percent",
        env_prefix="CPU",
        warning=80,
        critical=95,
        short_name="CPU",
        explained_by="cpu",
        prometheus="cpu_usage_ratio",
        prometheus_scale=0.01,
        series="cpu",
        charted=True,
    ),
    Metric(
        "cpu_count",
        unit=Unit.NUMBER,
        kind=_GAUGE,
        label="Logical CPUs",
        help="Logical CPUs",
        column="cpu_count",
        value_type=_INTEGER,
        prometheus="cpus",
        series="cpu",
    ),
    Metric(
        "cpu_physical_count",
        unit=Unit.NUMBER,
        kind=_GAUGE,
        label="Physical CPU cores",
        help="Physical CPU cores",
        column="cpu_physical_count",
        value_type=_INTEGER,
        series="cpu",
    ),
    Metric(
        "cpu_frequency_mhz",
        unit=Unit.MHZ,
        kind=_GAUGE,
        label="CPU frequency",
        help="Current CPU frequency",
        column="cpu_frequency_mhz",
        prometheus="cpu_frequency_hertz",
        prometheus_scale=1e6,
        series="cpu",
    ),
    Metric(
        "cpu_busy_seconds_total",
        unit=Unit.SECONDS,
        kind=_COUNTER,
        label="CPU busy time",
        help="CPU seconds spent busy (all CPUs) since boot",
        column="cpu_busy_seconds_total",
        prometheus="cpu_busy_seconds",
    ),
    Metric(
        "cpu_seconds_total",
        unit=Unit.SECONDS,
        kind=_COUNTER,
        label="CPU time",
        help="CPU seconds elapsed (all CPUs) since boot",
        column="cpu_seconds_total",
        prometheus="cpu_seconds",
    ),
    Metric(
        "cpu_core_percent",
        unit=Unit.PERCENT,
        kind=_RATE,
        label="CPU core usage",
        help="Busy share of one CPU",
        resource_kind=_CORE,
        column="percent",
        prometheus="cpu_core_usage_ratio",
        prometheus_scale=0.01,
    ),
    Metric(
        "cpu_core_busy_seconds_total",
        unit=Unit.SECONDS,
        kind=_COUNTER,
        label="CPU core busy time",
        help="CPU seconds one CPU spent busy since boot",
        resource_kind=_CORE,
        column="busy_seconds_total",
        required=True,
    ),
    Metric(
        "cpu_core_seconds_total",
        unit=Unit.SECONDS,
        kind=_COUNTER,
        label="CPU core time",
        help="CPU seconds of one CPU since boot",
        resource_kind=_CORE,
        column="seconds_total",
        required=True,
    ),
    # --- memory -------------------------------------------------------------------------------------------------
    Metric(
        "memory_total_gb",
        unit=Unit.GIB,
        kind=_GAUGE,
        label="Physical memory",
        help="Physical memory",
        column="memory_total_gb",
        prometheus="memory_total_bytes",
        prometheus_scale=GIB,
        series="memory",
    ),
    Metric(
        "memory_used_gb",
        unit=Unit.GIB,
        kind=_GAUGE,
        label="Memory in use",
        help="Memory in use",
        column="memory_used_gb",
        prometheus="memory_used_bytes",
        prometheus_scale=GIB,
        series="memory",
    ),
    Metric(
        "memory_available_gb",
        unit=Unit.GIB,
        kind=_GAUGE,
        label="Memory available",
        help="Memory available without swapping",
        column="memory_available_gb",
        prometheus="memory_available_bytes",
        prometheus_scale=GIB,
        series="memory",
    ),
    Metric(
        "memory_percent",
        unit=Unit.PERCENT,
        kind=_GAUGE,
        label="Memory usage",
        help="Share of memory in use",
        column="memory_percent",
        env_prefix="MEMORY",
        warning=85,
        critical=95,
        short_name="Memory",
        share_of=("memory_used_gb", "memory_total_gb"),
        explained_by="memory",
        prometheus="memory_usage_ratio",
        prometheus_scale=0.01,
        series="memory",
        charted=True,
        summary=True,
    ),
    # --- disks --------------------------------------------------------------------------------------------------
    Metric(
        "disk_total_gb",
        unit=Unit.GIB,
        kind=_GAUGE,
        label="System disk size",
        help="Size of the system disk (MONITOR_SYSTEM_DISK)",
        column="disk_total_gb",
        series="disk",
    ),
    Metric(
        "disk_used_gb",
        unit=Unit.GIB,
        kind=_GAUGE,
        label="System disk used",
        help="Space used on the system disk (MONITOR_SYSTEM_DISK)",
        column="disk_used_gb",
        series="disk",
    ),
    Metric(
        "disk_percent",
        unit=Unit.PERCENT,
        kind=_GAUGE,
        label="Disk usage",
        help="Share of the filesystem used",
        resource_kind=_MOUNT,
        column="percent",
        host_column="disk_percent",
        env_prefix="DISK",
        warning=90,
        critical=95,
        short_name="Disk",
        share_of=("disk_used_bytes", "disk_total_bytes"),
        prometheus="filesystem_usage_ratio",
        prometheus_scale=0.01,
        series="disk",
        charted=True,
    ),
    Metric(
        "disk_full_prediction",
        unit=Unit.PERCENT,
        kind=_GAUGE,
        label="Projected disk usage",
        help="The mount's usage the trend of the last ALERT_DISK_PREDICT_HOURS projects ALERT_DISK_FULL_WITHIN_HOURS "
        "ahead, in percent of its capacity now (above 100: full within that time)",
        resource_kind=_MOUNT,
        env_prefix="DISK_FULL",
        warning=100,
        critical=None,
        hysteresis=Hysteresis.NONE,
        short_name="Disk full",
    ),
    Metric(
        "disk_total_bytes",
        unit=Unit.BYTES,
        kind=_GAUGE,
        label="Filesystem size",
        help="Filesystem size",
        resource_kind=_MOUNT,
        column="total_bytes",
        value_type=_BIG,
        prometheus="filesystem_size_bytes",
    ),
    Metric(
        "disk_used_bytes",
        unit=Unit.BYTES,
        kind=_GAUGE,
        label="Filesystem space used",
        help="Filesystem space used",
        resource_kind=_MOUNT,
        column="used_bytes",
        value_type=_BIG,
        prometheus="filesystem_used_bytes",
    ),
    Metric(
        "disk_free_bytes",
        unit=Unit.BYTES,
        kind=_GAUGE,
        label="Filesystem space free",
        help="Filesystem space free for users",
        resource_kind=_MOUNT,
        column="free_bytes",
        value_type=_BIG,
        prometheus="filesystem_free_bytes",
    ),
    _device_io(
        "disk_read_bytes_total",
        "disk_read_bytes_total",
        _COUNTER,
        Unit.BYTES,
        "Bytes read from every device since boot",
        resource_kind=None,
    ),
    _device_io(
        "disk_write_bytes_total",
        "disk_write_bytes_total",
        _COUNTER,
        Unit.BYTES,
        "Bytes written to every device since boot",
        resource_kind=None,
    ),
    _device_io(
        "disk_read_count_total",
        "disk_read_count_total",
        _COUNTER,
        Unit.NUMBER,
        "Reads completed by every device since boot",
        resource_kind=None,
    ),
    _device_io(
        "disk_write_count_total",
        "disk_write_count_total",
        _COUNTER,
        Unit.NUMBER,
        "Writes completed by every device since boot",
        resource_kind=None,
    ),
    _device_io(
        "disk_read_bytes_per_second",
        "disk_read_bytes_per_second",
        _RATE,
        Unit.BYTES_PER_SECOND,
        "Disk read rate",
        resource_kind=None,
        series="disk",
    ),
    _device_io(
        "disk_write_bytes_per_second",
        "disk_write_bytes_per_second",
        _RATE,
        Unit.BYTES_PER_SECOND,
        "Disk write rate",
        resource_kind=None,
        series="disk",
    ),
    _device_io(
        "disk_read_ops_per_second",
        "disk_read_ops_per_second",
        _RATE,
        Unit.PER_SECOND,
        "Disk reads per second",
        resource_kind=None,
        series="disk",
    ),
    _device_io(
        "disk_write_ops_per_second",
        "disk_write_ops_per_second",
        _RATE,
        Unit.PER_SECOND,
        "Disk writes per second",
        resource_kind=None,
        series="disk",
    ),
    _device_io(
        "device_read_bytes_total",
        "read_bytes_total",
        _COUNTER,
        Unit.BYTES,
        "Bytes read from the device",
        "disk_read_bytes",
    ),
    _device_io(
        "device_write_bytes_total",
        "write_bytes_total",
        _COUNTER,
        Unit.BYTES,
        "Bytes written to the device",
        "disk_written_bytes",
    ),
    _device_io(
        "device_read_count_total", "read_count_total", _COUNTER, Unit.NUMBER, "Reads completed", "disk_reads_completed"
    ),
    _device_io(
        "device_write_count_total",
        "write_count_total",
        _COUNTER,
        Unit.NUMBER,
        "Writes completed",
        "disk_writes_completed",
    ),
    _device_io(
        "device_read_bytes_per_second", "read_bytes_per_second", _RATE, Unit.BYTES_PER_SECOND, "Device read rate"
    ),
    _device_io(
        "device_write_bytes_per_second", "write_bytes_per_second", _RATE, Unit.BYTES_PER_SECOND, "Device write rate"
    ),
    _device_io("device_read_ops_per_second", "read_ops_per_second", _RATE, Unit.PER_SECOND, "Device reads per second"),
    _device_io(
        "device_write_ops_per_second", "write_ops_per_second", _RATE, Unit.PER_SECOND, "Device writes per second"
    ),
    # --- swap ---------------------------------------------------------------------------------------------------
    Metric(
        "swap_total_gb",
        unit=Unit.GIB,
        kind=_GAUGE,
        label="Swap space",
        help="Swap space",
        column="swap_total_gb",
        prometheus="swap_total_bytes",
        prometheus_scale=GIB,
        series="memory",
    ),
    Metric(
        "swap_used_gb",
        unit=Unit.GIB,
        kind=_GAUGE,
        label="Swap in use",
        help="Swap in use",
        column="swap_used_gb",
        prometheus="swap_used_bytes",
        prometheus_scale=GIB,
        series="memory",
    ),
    Metric(
        "swap_percent",
        unit=Unit.PERCENT,
        kind=_GAUGE,
        label="Swap usage",
        help="Share of swap in use",
        column="swap_percent",
        env_prefix="SWAP",
        warning=80,
        critical=95,
        short_name="Swap",
        share_of=("swap_used_gb", "swap_total_gb"),
        prometheus="swap_usage_ratio",
        prometheus_scale=0.01,
        series="memory",
        charted=True,
        summary=True,
    ),
    # --- load ---------------------------------------------------------------------------------------------------
    Metric(
        "load_1m",
        unit=Unit.NUMBER,
        kind=_GAUGE,
        label="Load average (1 min)",
        help="Load average over 1 minute",
        column="load_1m",
        prometheus="load1",
        series="cpu",
        charted=True,
    ),
    Metric(
        "load_5m",
        unit=Unit.NUMBER,
        kind=_GAUGE,
        label="Load average (5 min)",
        help="Load average over 5 minutes",
        column="load_5m",
        prometheus="load5",
        series="cpu",
        charted=True,
    ),
    Metric(
        "load_15m",
        unit=Unit.NUMBER,
        kind=_GAUGE,
        label="Load average (15 min)",
        help="Load average over 15 minutes",
        column="load_15m",
        prometheus="load15",
        series="cpu",
        charted=True,
    ),
    Metric(
        "load_per_core",
        unit=Unit.NUMBER,
        kind=_GAUGE,
        label="Load average (5 min) per core",
        help="The 5-minute load average per logical CPU",
        column="load_per_core",
        env_prefix="LOAD",
        warning=2.0,
        critical=4.0,
        maximum=1000,
        hysteresis=_BY_RATE,
        short_name="Load",
        detail="load {load_5m:.2f} on {cpu_count} cores",
        rule_expression="automation_load5 / automation_cpus",
        series="cpu",
        charted=True,
    ),
    # --- GPUs ---------------------------------------------------------------------------------------------------
    Metric(
        "gpu_count",
        unit=Unit.NUMBER,
        kind=_GAUGE,
        label="GPUs",
        help="NVIDIA GPUs NVML sees",
        column="gpu_count",
        value_type=_INTEGER,
    ),
    Metric(
        "gpu_utilization_percent",
        unit=Unit.PERCENT,
        kind=_GAUGE,
        label="GPU utilization",
        help="Share of time the GPU was busy",
        resource_kind=_GPU,
        column="utilization_percent",
        env_prefix="GPU_UTILIZATION",
        warning=90,
        critical=95,
        short_name="GPU util",
        prometheus="gpu_utilization_ratio",
        prometheus_scale=0.01,
    ),
    Metric(
        "gpu_memory_utilization_percent",
        unit=Unit.PERCENT,
        kind=_GAUGE,
        label="GPU memory activity",
        help="Share of time the GPU's memory was read or written",
        resource_kind=_GPU,
        column="memory_utilization_percent",
    ),
    Metric(
        "gpu_memory_total_mib",
        unit=Unit.MIB,
        kind=_GAUGE,
        label="GPU memory",
        help="GPU framebuffer memory",
        resource_kind=_GPU,
        column="memory_total_mib",
        prometheus="gpu_memory_total_bytes",
        prometheus_scale=MIB,
    ),
    Metric(
        "gpu_memory_used_mib",
        unit=Unit.MIB,
        kind=_GAUGE,
        label="GPU memory in use",
        help="GPU framebuffer memory in use",
        resource_kind=_GPU,
        column="memory_used_mib",
        prometheus="gpu_memory_used_bytes",
        prometheus_scale=MIB,
    ),
    Metric(
        "gpu_memory_percent",
        unit=Unit.PERCENT,
        kind=_GAUGE,
        label="GPU memory usage",
        help="Share of GPU framebuffer memory in use",
        resource_kind=_GPU,
        column="memory_percent",
        env_prefix="GPU_MEMORY",
        warning=90,
        critical=95,
        short_name="GPU mem",
        share_of=("gpu_memory_used_mib", "gpu_memory_total_mib"),
        prometheus_scale=0.01,
        rule_expression="automation_gpu_memory_used_bytes / automation_gpu_memory_total_bytes",
    ),
    Metric(
        "gpu_temperature_celsius",
        unit=Unit.CELSIUS,
        kind=_GAUGE,
        label="GPU temperature",
        help="GPU temperature",
        resource_kind=_GPU,
        column="temperature_celsius",
        env_prefix="GPU_TEMPERATURE",
        warning=80,
        critical=90,
        maximum=150,
        short_name="GPU temp",
        prometheus="gpu_temperature_celsius",
    ),
    Metric(
        "gpu_power_draw_watts",
        unit=Unit.WATTS,
        kind=_GAUGE,
        label="GPU power draw",
        help="GPU power draw",
        resource_kind=_GPU,
        column="power_draw_watts",
        prometheus="gpu_power_watts",
    ),
    Metric(
        "gpu_power_limit_watts",
        unit=Unit.WATTS,
        kind=_GAUGE,
        label="GPU power limit",
        help="GPU power limit",
        resource_kind=_GPU,
        column="power_limit_watts",
        prometheus="gpu_power_limit_watts",
    ),
    Metric(
        "gpu_fan_percent",
        unit=Unit.PERCENT,
        kind=_GAUGE,
        label="GPU fan speed",
        help="GPU fan speed as a share of its maximum",
        resource_kind=_GPU,
        column="fan_percent",
        prometheus="gpu_fan_speed_ratio",
        prometheus_scale=0.01,
    ),
    # --- network ------------------------------------------------------------------------------------------------
    Metric(
        "network_sent_mb",
        unit=Unit.MIB,
        kind=_COUNTER,
        label="Network sent since boot",
        help="MiB sent since boot over the counted interfaces",
        column="network_sent_mb",
        series="network",
    ),
    Metric(
        "network_recv_mb",
        unit=Unit.MIB,
        kind=_COUNTER,
        label="Network received since boot",
        help="MiB received since boot over the counted interfaces",
        column="network_recv_mb",
        series="network",
    ),
    Metric(
        "network_recv_bytes_per_second",
        unit=Unit.BYTES_PER_SECOND,
        kind=_RATE,
        label="Network receive rate",
        help="Bytes received per second since the previous sample",
        resource_kind=_INTERFACE,
        column="recv_bytes_per_second",
        host_column="network_recv_bytes_per_second",
        env_prefix="NETWORK_RECV",
        maximum=1e12,
        hysteresis=_BY_RATE,
        short_name="Net recv",
        detail=_LINK,
        series="network",
        charted=True,
    ),
    Metric(
        "network_sent_bytes_per_second",
        unit=Unit.BYTES_PER_SECOND,
        kind=_RATE,
        label="Network send rate",
        help="Bytes sent per second since the previous sample",
        resource_kind=_INTERFACE,
        column="sent_bytes_per_second",
        host_column="network_sent_bytes_per_second",
        env_prefix="NETWORK_SENT",
        maximum=1e12,
        hysteresis=_BY_RATE,
        short_name="Net sent",
        detail=_LINK,
        series="network",
        charted=True,
    ),
    Metric(
        "network_errors_per_second",
        unit=Unit.PER_SECOND,
        kind=_RATE,
        label="Network errors",
        help="Receive and transmit errors per second since the previous sample",
        resource_kind=_INTERFACE,
        host_column="network_errors_per_second",
        env_prefix="NETWORK_ERRORS",
        maximum=1e9,
        hysteresis=_BY_RATE,
        short_name="Net errors",
        detail=_LINK,
        series="network",
    ),
    Metric(
        "network_drops_per_second",
        unit=Unit.PER_SECOND,
        kind=_RATE,
        label="Network drops",
        help="Packets dropped on receive and transmit per second since the previous sample",
        resource_kind=_INTERFACE,
        host_column="network_drops_per_second",
        env_prefix="NETWORK_DROPS",
        maximum=1e9,
        hysteresis=_BY_RATE,
        short_name="Net drops",
        detail=_LINK,
        series="network",
    ),
    Metric(
        "network_up",
        unit=Unit.NUMBER,
        kind=_GAUGE,
        label="Interface up",
        help="Whether the interface is up (1) or down (0)",
        resource_kind=_INTERFACE,
        column="is_up",
        value_type=_BOOLEAN,
        prometheus="network_up",
    ),
    Metric(
        "network_speed_mbps",
        unit=Unit.MBIT_PER_SECOND,
        kind=_GAUGE,
        label="Link speed",
        help="The interface's link speed",
        resource_kind=_INTERFACE,
        column="speed_mbps",
        value_type=_INTEGER,
    ),
    _interface_counter("network_bytes_sent_total", "bytes_sent_total", "network_transmit_bytes", "Bytes sent"),
    _interface_counter("network_bytes_recv_total", "bytes_recv_total", "network_receive_bytes", "Bytes received"),
    _interface_counter("network_packets_sent_total", "packets_sent_total", "network_transmit_packets", "Packets sent"),
    _interface_counter(
        "network_packets_recv_total", "packets_recv_total", "network_receive_packets", "Packets received"
    ),
    _interface_counter("network_errors_in_total", "errors_in_total", "network_receive_errors", "Receive errors"),
    _interface_counter("network_errors_out_total", "errors_out_total", "network_transmit_errors", "Transmit errors"),
    _interface_counter("network_drops_in_total", "drops_in_total", "network_receive_drop", "Received packets dropped"),
    _interface_counter(
        "network_drops_out_total", "drops_out_total", "network_transmit_drop", "Packets to send dropped"
    ),
    _interface_rate(
        "network_packets_sent_per_second",
        "packets_sent_per_second",
        Unit.PER_SECOND,
        "Packets sent per second",
        "network_packets_sent_per_second",
    ),
    _interface_rate(
        "network_packets_recv_per_second",
        "packets_recv_per_second",
        Unit.PER_SECOND,
        "Packets received per second",
        "network_packets_recv_per_second",
    ),
    _interface_rate(
        "network_errors_in_per_second", "errors_in_per_second", Unit.PER_SECOND, "Receive errors per second"
    ),
    _interface_rate(
        "network_errors_out_per_second", "errors_out_per_second", Unit.PER_SECOND, "Transmit errors per second"
    ),
    _interface_rate(
        "network_drops_in_per_second", "drops_in_per_second", Unit.PER_SECOND, "Received packets dropped per second"
    ),
    _interface_rate(
        "network_drops_out_per_second", "drops_out_per_second", Unit.PER_SECOND, "Packets to send dropped per second"
    ),
    # --- where the CPU time went (VMs: steal; storage-bound machines: I/O wait) ---------------------------------
    Metric(
        "cpu_iowait_seconds_total",
        unit=Unit.SECONDS,
        kind=_COUNTER,
        label="CPU I/O wait time",
        help="CPU seconds spent idle while I/O was outstanding (all CPUs) since boot",
        column="cpu_iowait_seconds_total",
        prometheus="cpu_iowait_seconds",
    ),
    Metric(
        "cpu_steal_seconds_total",
        unit=Unit.SECONDS,
        kind=_COUNTER,
        label="CPU steal time",
        help="CPU seconds the hypervisor ran other guests while this one wanted to run (all CPUs) since boot",
        column="cpu_steal_seconds_total",
        prometheus="cpu_steal_seconds",
    ),
    Metric(
        "cpu_iowait_percent",
        unit=Unit.PERCENT,
        kind=_RATE,
        label="CPU I/O wait",
        help="Share of CPU time spent idle while I/O was outstanding since the previous sample",
        column="cpu_iowait_percent",
        env_prefix="CPU_IOWAIT",
        short_name="iowait",
        chart_label="I/O wait",
        prometheus="cpu_iowait_ratio",
        prometheus_scale=0.01,
        series="cpu",
        charted=True,
        summary=True,
    ),
    Metric(
        "cpu_steal_percent",
        unit=Unit.PERCENT,
        kind=_RATE,
        label="CPU steal",
        help="Share of CPU time the hypervisor gave to other guests since the previous sample",
        column="cpu_steal_percent",
        env_prefix="CPU_STEAL",
        short_name="steal",
        chart_label="Steal",
        prometheus="cpu_steal_ratio",
        prometheus_scale=0.01,
        series="cpu",
        charted=True,
        summary=True,
    ),
    # --- hardware sensors ---------------------------------------------------------------------------------------
    Metric(
        "sensor_temperature_celsius",
        unit=Unit.CELSIUS,
        kind=_GAUGE,
        label="Sensor temperature",
        help="Hardware sensor temperature",
        resource_kind=_SENSOR,
        column="current_celsius",
        prometheus="temperature_celsius",
    ),
    Metric(
        "sensor_high_celsius",
        unit=Unit.CELSIUS,
        kind=_GAUGE,
        label="Sensor high temperature",
        help="The temperature the sensor's chip calls high",
        resource_kind=_SENSOR,
        column="high_celsius",
    ),
    Metric(
        "sensor_critical_celsius",
        unit=Unit.CELSIUS,
        kind=_GAUGE,
        label="Sensor critical temperature",
        help="The temperature the sensor's chip calls critical",
        resource_kind=_SENSOR,
        column="critical_celsius",
    ),
    # --- the sample itself --------------------------------------------------------------------------------------
    Metric(
        "rate_interval_seconds",
        unit=Unit.SECONDS,
        kind=_GAUGE,
        label="Rate interval",
        help="Seconds since the previous sample: what the rates average over",
        column="rate_interval_seconds",
    ),
    Metric(
        "collection_seconds",
        unit=Unit.SECONDS,
        kind=_GAUGE,
        label="Collection time",
        help="Time the monitor's collectors took together",
        column="collection_seconds",
        prometheus="collection_duration_seconds",
    ),
    # --- containers (Docker, Podman): off by default, the user sets the levels that matter --------------------
    Metric(
        "container_cpu_cores",
        unit=Unit.NUMBER,
        kind=_RATE,
        label="CPU in cores",
        help="CPU cores the container kept busy since the previous sample (1.0: one core; docker stats' 100 %)",
        resource_kind=_CONTAINER,
        column="cpu_cores",
        env_prefix="CONTAINER_CPU_CORES",
        warning=None,
        critical=None,
        maximum=4096,
        hysteresis=_BY_RATE,
        short_name="Container CPU cores",
        prometheus="container_cpu_cores",
    ),
    Metric(
        "container_cpu_host_percent",
        unit=Unit.PERCENT,
        kind=_RATE,
        label="CPU share of the host",
        help="The container's CPU use since the previous sample as a share of all the host's cores",
        resource_kind=_CONTAINER,
        column="cpu_host_percent",
        env_prefix="CONTAINER_CPU",
        warning=None,
        critical=None,
        short_name="Container CPU",
        prometheus="container_cpu_host_ratio",
        prometheus_scale=0.01,
    ),
    Metric(
        "container_memory_used_bytes",
        unit=Unit.BYTES,
        kind=_GAUGE,
        label="Memory in use",
        help="Memory the container uses, without its reclaimable page cache (as docker stats shows it)",
        resource_kind=_CONTAINER,
        column="memory_used_bytes",
        value_type=_BIG,
        prometheus="container_memory_used_bytes",
    ),
    Metric(
        "container_memory_limit_bytes",
        unit=Unit.BYTES,
        kind=_GAUGE,
        label="Memory limit",
        help="The container's memory limit; none when it has no limit below the host's memory",
        resource_kind=_CONTAINER,
        column="memory_limit_bytes",
        value_type=_BIG,
        prometheus="container_memory_limit_bytes",
    ),
    Metric(
        "container_memory_percent",
        unit=Unit.PERCENT,
        kind=_GAUGE,
        label="Memory share of its limit",
        help="The container's memory in use as a share of its limit (of the host's memory without one)",
        resource_kind=_CONTAINER,
        column="memory_percent",
        env_prefix="CONTAINER_MEMORY",
        warning=None,
        critical=None,
        short_name="Container memory",
        prometheus="container_memory_ratio",
        prometheus_scale=0.01,
    ),
    Metric(
        "container_net_rx_bytes_per_second",
        unit=Unit.BYTES_PER_SECOND,
        kind=_RATE,
        label="Network receive rate",
        help="Bytes the container received per second since the previous sample",
        resource_kind=_CONTAINER,
        column="net_rx_bytes_per_second",
        prometheus="container_network_receive_bytes_per_second",
    ),
    Metric(
        "container_net_tx_bytes_per_second",
        unit=Unit.BYTES_PER_SECOND,
        kind=_RATE,
        label="Network send rate",
        help="Bytes the container sent per second since the previous sample",
        resource_kind=_CONTAINER,
        column="net_tx_bytes_per_second",
        prometheus="container_network_transmit_bytes_per_second",
    ),
    Metric(
        "container_block_read_bytes_per_second",
        unit=Unit.BYTES_PER_SECOND,
        kind=_RATE,
        label="Block read rate",
        help="Bytes the container read from block devices per second since the previous sample",
        resource_kind=_CONTAINER,
        column="block_read_bytes_per_second",
        prometheus="container_block_read_bytes_per_second",
    ),
    Metric(
        "container_block_write_bytes_per_second",
        unit=Unit.BYTES_PER_SECOND,
        kind=_RATE,
        label="Block write rate",
        help="Bytes the container wrote to block devices per second since the previous sample",
        resource_kind=_CONTAINER,
        column="block_write_bytes_per_second",
        prometheus="container_block_write_bytes_per_second",
    ),
    Metric(
        "container_pids",
        unit=Unit.NUMBER,
        kind=_GAUGE,
        label="Processes",
        help="Processes and threads in the container",
        resource_kind=_CONTAINER,
        column="pids",
        value_type=_INTEGER,
        prometheus="container_pids",
    ),
    # --- containers' lifecycle: on by default; 1 means yes, so a level of 0 fires on it ------------------------
    Metric(
        "container_restarts",
        unit=Unit.NUMBER,
        kind=_GAUGE,
        label="Restarts",
        help="Times the container restarted within CONTAINER_RESTART_WINDOW: more than a few is a restart loop",
        resource_kind=_CONTAINER,
        column="restarts_in_window",
        value_type=_INTEGER,
        env_prefix="CONTAINER_RESTARTS",
        warning=3,
        critical=None,
        maximum=1e6,
        hysteresis=Hysteresis.NONE,
        short_name="Container restarts",
        prometheus="container_restarts_in_window",
    ),
    _container_flag(
        "container_unhealthy",
        "Failing health check",
        "1 while the container's health check fails, 0 while it passes (none without a health check)",
        "Container unhealthy",
    ),
    _container_flag(
        "container_oom_killed",
        "Killed for memory",
        "1 when the engine says the kernel killed the container for memory (until it starts again)",
        "Container OOM-killed",
        critical=True,
    ),
    _container_flag(
        "container_failed",
        "Exited with an error",
        "1 while the container is stopped after exiting with a non-zero code",
        "Container failed",
    ),
    _container_flag(
        "container_gone",
        "Gone",
        "1 in the first sample where a container of the previous one is no longer listed, 0 after",
        "Container gone",
        column="gone",
    ),
    # --- the fleet: hosts that stopped pushing (the hub's check, not a sample) --------------------------------
    Metric(
        "host_silent",
        unit=Unit.SECONDS,
        kind=_GAUGE,
        label="Time without a push",
        help="Seconds since the host last pushed to the hub, once past its silent delay (HOST_SILENT_AFTER)",
        hysteresis=Hysteresis.NONE,
    ),
    Metric(
        "hosts_silent",
        unit=Unit.NUMBER,
        kind=_GAUGE,
        label="Silent hosts",
        help="Hosts silent at once: one fleet incident from HOST_SILENT_FLEET_MIN_HOSTS of them",
        hysteresis=Hysteresis.NONE,
    ),
)

BY_NAME: dict[str, Metric] = {metric.name: metric for metric in CATALOGUE}
GRADED: tuple[Metric, ...] = tuple(metric for metric in CATALOGUE if metric.graded)
# The resource kinds in the order their figures are graded and reported (as the catalogue first names them).
RESOURCE_KINDS: tuple[ResourceKind, ...] = tuple(
    dict.fromkeys(metric.resource_kind for metric in CATALOGUE if metric.resource_kind is not None)
)


def stored_in(resource_kind: ResourceKind | None) -> tuple[Metric, ...]:
    """The metrics with a column in system_metrics (None) or in the detail table of `resource_kind`."""
    return tuple(metric for metric in CATALOGUE if metric.column is not None and metric.resource_kind is resource_kind)


def machine_columns() -> tuple[tuple[str, Metric], ...]:
    """Every system_metrics column a metric fills, with that metric."""
    return tuple((column, metric) for metric in CATALOGUE if (column := metric.machine_column) is not None)


def series_columns(series: str) -> tuple[str, ...]:
    """The system_metrics columns of /api/v1/metrics/<series>."""
    return tuple(column for column, metric in machine_columns() if metric.series == series)


SERIES: tuple[str, ...] = tuple(dict.fromkeys(metric.series for metric in CATALOGUE if metric.series))
CHARTED_COLUMNS: tuple[str, ...] = tuple(column for column, metric in machine_columns() if metric.charted)
# Each host's headline figures in the fleet view (the API's host documents, the page's bars, `hosts list`).
FLEET_FIGURES: tuple[str, ...] = ("cpu_percent", "memory_percent", "disk_percent")
