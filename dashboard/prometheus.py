"""GET /metrics: the newest stored sample of every host and the platform's own figures, in Prometheus names.

Base units (bytes, seconds, ratios 0-1), `_total` for counters, `automation_` as the namespace (not `node_`,
which is node_exporter's). Read from the database at each scrape, so Prometheus sees what the monitor stored:
automation_sample_timestamp_seconds says how old it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from storage import db
from storage.incident_actions import active_counts
from storage.job_queries import last_successes, runs_by_status
from storage.metrics_queries import hostnames, latest_sample_id, sample_with_details
from storage.scheduler_queries import newest_heartbeat

NAMESPACE = "automation"
MIB = 2**20
GIB = 2**30

# (column, metric name, help, scale): per-host gauges from system_metrics columns.
_HOST_GAUGES = (
    ("cpu_percent", "cpu_usage_ratio", "Busy share of all CPUs since the previous sample", 0.01),
    ("cpu_count", "cpus", "Logical CPUs", 1),
    ("cpu_frequency_mhz", "cpu_frequency_hertz", "Current CPU frequency", 1e6),
    ("load_1m", "load1", "Load average over 1 minute", 1),
    ("load_5m", "load5", "Load average over 5 minutes", 1),
    ("load_15m", "load15", "Load average over 15 minutes", 1),
    ("memory_total_gb", "memory_total_bytes", "Physical memory", GIB),
    ("memory_used_gb", "memory_used_bytes", "Memory in use", GIB),
    ("memory_available_gb", "memory_available_bytes", "Memory available without swapping", GIB),
    ("memory_percent", "memory_usage_ratio", "Share of memory in use", 0.01),
    ("swap_total_gb", "swap_total_bytes", "Swap space", GIB),
    ("swap_used_gb", "swap_used_bytes", "Swap in use", GIB),
    ("swap_percent", "swap_usage_ratio", "Share of swap in use", 0.01),
    ("collection_seconds", "collection_duration_seconds", "Time the monitor's collectors took together", 1),
)
_HOST_COUNTERS = (
    ("cpu_busy_seconds_total", "cpu_busy_seconds", "CPU seconds spent busy (all CPUs) since boot"),
    ("cpu_seconds_total", "cpu_seconds", "CPU seconds elapsed (all CPUs) since boot"),
)
_FILESYSTEM = (
    ("total_bytes", "filesystem_size_bytes", "Filesystem size", 1),
    ("used_bytes", "filesystem_used_bytes", "Filesystem space used", 1),
    ("free_bytes", "filesystem_free_bytes", "Filesystem space free for users", 1),
    ("percent", "filesystem_usage_ratio", "Share of the filesystem used", 0.01),
)
_DISK_IO = (
    ("read_bytes_total", "disk_read_bytes", "Bytes read from the device"),
    ("write_bytes_total", "disk_written_bytes", "Bytes written to the device"),
    ("read_count_total", "disk_reads_completed", "Reads completed"),
    ("write_count_total", "disk_writes_completed", "Writes completed"),
)
_NETWORK = (
    ("bytes_recv_total", "network_receive_bytes", "Bytes received"),
    ("bytes_sent_total", "network_transmit_bytes", "Bytes sent"),
    ("packets_recv_total", "network_receive_packets", "Packets received"),
    ("packets_sent_total", "network_transmit_packets", "Packets sent"),
    ("errors_in_total", "network_receive_errors", "Receive errors"),
    ("errors_out_total", "network_transmit_errors", "Transmit errors"),
    ("drops_in_total", "network_receive_drop", "Received packets dropped"),
    ("drops_out_total", "network_transmit_drop", "Packets to send dropped"),
)
_GPU = (
    ("utilization_percent", "gpu_utilization_ratio", "Share of time the GPU was busy", 0.01),
    ("memory_total_mib", "gpu_memory_total_bytes", "GPU framebuffer memory", MIB),
    ("memory_used_mib", "gpu_memory_used_bytes", "GPU framebuffer memory in use", MIB),
    ("temperature_celsius", "gpu_temperature_celsius", "GPU temperature", 1),
    ("power_draw_watts", "gpu_power_watts", "GPU power draw", 1),
    ("power_limit_watts", "gpu_power_limit_watts", "GPU power limit", 1),
    ("fan_percent", "gpu_fan_speed_ratio", "GPU fan speed as a share of its maximum", 0.01),
)


def _name(suffix: str) -> str:
    return f"{NAMESPACE}_{suffix}"


class _Families:
    """Metric families created on first use, emitted in creation order."""

    def __init__(self) -> None:
        self._families: dict[str, Metric] = {}

    def gauge(self, name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
        if name not in self._families:
            self._families[name] = GaugeMetricFamily(_name(name), documentation, labels=labels)
        return self._families[name]  # type: ignore[return-value]

    def counter(self, name: str, documentation: str, labels: list[str]) -> CounterMetricFamily:
        if name not in self._families:
            self._families[name] = CounterMetricFamily(_name(name), documentation, labels=labels)
        return self._families[name]  # type: ignore[return-value]

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._families.values())


def _add_rows(families: _Families, rows: Iterable[dict[str, Any]], specs: Iterable[tuple[Any, ...]], labels: list[str],
              values_of: Callable[[dict[str, Any]], list[str]], counter: bool = False) -> None:
    """One sample per row and spec whose column has a value; specs are (column, name, help[, scale]) and
    values_of gives a row's label values."""
    for row in rows:
        for column, name, documentation, *scale in specs:
            value = row.get(column)
            if value is None:
                continue
            family = (families.counter if counter else families.gauge)(name, documentation, labels)
            family.add_metric(values_of(row), float(value) * (scale[0] if scale else 1))


def _host_metrics(families: _Families, sample: dict[str, Any]) -> None:
    host = sample["hostname"]
    families.gauge("sample_timestamp_seconds", "When the newest stored sample was taken", ["host"]).add_metric(
        [host], sample["timestamp"].timestamp())
    if sample["boot_time"] is not None:
        families.gauge("boot_time_seconds", "When the host booted", ["host"]).add_metric(
            [host], sample["boot_time"].timestamp())
    _add_rows(families, [sample], _HOST_GAUGES, ["host"], lambda _: [host])
    _add_rows(families, [sample], _HOST_COUNTERS, ["host"], lambda _: [host], counter=True)
    _add_rows(families, sample["cpu_cores"], [("percent", "cpu_core_usage_ratio", "Busy share of one CPU", 0.01)],
              ["host", "cpu"], lambda row: [host, str(row["core_index"])])
    _add_rows(families, sample["disks"], _FILESYSTEM, ["host", "mountpoint", "device", "fstype"],
              lambda row: [host, row["mountpoint"], row["device"] or "", row["fstype"] or ""])
    devices = {row["io_device"]: row for row in sample["disks"] if row["io_device"]}
    _add_rows(families, devices.values(), _DISK_IO, ["host", "device"], lambda row: [host, row["io_device"]],
              counter=True)
    _add_rows(families, sample["networks"], _NETWORK, ["host", "interface"], lambda row: [host, row["interface"]],
              counter=True)
    _add_rows(families, sample["networks"], [("is_up", "network_up", "Whether the interface is up (1) or down (0)")],
              ["host", "interface"], lambda row: [host, row["interface"]])
    _add_rows(families, sample["gpus"], _GPU, ["host", "gpu", "uuid", "name"],
              lambda row: [host, str(row["gpu_index"]), row["uuid"] or "", row["name"] or ""])
    _add_rows(families, sample["sensors"], [("current_celsius", "temperature_celsius", "Hardware sensor temperature")],
              ["host", "chip", "sensor"], lambda row: [host, row["chip"], row["label"] or ""])
    _add_rows(families, sample["collectors"],
              [("duration_seconds", "collector_duration_seconds", "Time one collector took in the newest sample"),
               ("success", "collector_success", "Whether the collector succeeded (1) or failed (0)")],
              ["host", "collector"], lambda row: [host, row["collector"]])


class PlatformCollector(Collector):
    """Collects from the database bound to storage.db at each scrape."""

    def collect(self) -> Iterator[Metric]:
        families = _Families()
        with db.engine.connect() as connection:
            for host in hostnames(connection):
                sample_id = latest_sample_id(connection, host)
                sample = sample_with_details(connection, sample_id) if sample_id is not None else None
                if sample is not None:
                    _host_metrics(families, sample)
            runs = families.counter("job_runs", "Job runs recorded, by job and outcome", ["job", "status"])
            for job_name, status, count in runs_by_status(connection):
                runs.add_metric([job_name, status], count)
            success = families.gauge("job_last_success_timestamp_seconds", "When the job last completed successfully",
                                     ["job"])
            for job_name, completed in last_successes(connection).items():
                success.add_metric([job_name], completed.timestamp())
            incidents = families.gauge("incidents_active", "Active incidents by level (pending not yet fired)",
                                       ["level"])
            for status, count in active_counts(connection).items():
                incidents.add_metric([status], count)
            heartbeat, running = newest_heartbeat(connection)
            families.gauge("schedulers_running", "Scheduler instances that have not stopped", []).add_metric(
                [], running)
            if heartbeat is not None:
                families.gauge("scheduler_heartbeat_timestamp_seconds", "The newest scheduler heartbeat",
                               []).add_metric([], heartbeat.timestamp())
        yield from families
