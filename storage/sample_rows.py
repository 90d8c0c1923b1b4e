"""A sample as rows of storage.tables: its figures go to the columns the catalogue names, its other details
(the top processes, the processes on each GPU, how each collector fared) to their own tables.

No SQL here: storage.metrics_store writes the rows.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, NamedTuple

from monitoring.catalogue import BY_NAME, ResourceKind
from monitoring.collectors.registry import figures_of
from monitoring.figures import Figures
from monitoring.sample import Sample

# The detail table of each kind of resource.
RESOURCE_TABLES = {
    ResourceKind.CORE: "system_metric_cpu_cores",
    ResourceKind.MOUNT: "system_metric_disks",
    ResourceKind.INTERFACE: "system_metric_networks",
    ResourceKind.GPU: "system_metric_gpus",
    ResourceKind.SENSOR: "system_metric_sensors",
    ResourceKind.CONTAINER: "system_metric_containers",
}


class SampleRows(NamedTuple):
    """Values of one system_metrics row and of its detail rows, keyed by detail table name."""

    metric: dict[str, Any]
    details: dict[str, list[dict[str, Any]]]


def sample_rows(sample: Sample, figures: Figures | None = None) -> SampleRows:
    """The system_metrics values of a sample and the rows of its detail tables (`figures`: figures_of(sample),
    when the caller has them already)."""
    figures = figures_of(sample) if figures is None else figures
    metric = {
        "timestamp": sample.timestamp,
        "hostname": sample.hostname,
        "platform": sample.platform,
        "boot_time": datetime.fromtimestamp(sample.boot_time, timezone.utc) if sample.boot_time else None,
        **figures.attributes,
        **_machine_columns(figures),
    }
    details = {
        RESOURCE_TABLES[kind]: [{**resource.attributes, **_resource_columns(resource.values)} for resource in resources]
        for kind, resources in figures.resources.items()
    }
    details |= _other_details(sample)
    return SampleRows(metric, details)


# The column of each metric that has one, on system_metrics and on its resource's detail table: looked up for
# every figure of every sample.
_MACHINE_COLUMNS = {
    name: metric.machine_column for name, metric in BY_NAME.items() if metric.machine_column is not None
}
_RESOURCE_COLUMNS = {name: metric.column for name, metric in BY_NAME.items() if metric.column is not None}


def _machine_columns(figures: Figures) -> dict[str, Any]:
    return {_MACHINE_COLUMNS[name]: value for name, value in figures.machine.items() if name in _MACHINE_COLUMNS}


def _resource_columns(values: dict[str, Any] | Any) -> dict[str, Any]:
    return {_RESOURCE_COLUMNS[name]: value for name, value in values.items() if name in _RESOURCE_COLUMNS}


def _other_details(sample: Sample) -> dict[str, list[dict[str, Any]]]:
    """What is not a metric: the processes on each GPU, the top processes, each collector's outcome."""
    details: dict[str, list[dict[str, Any]]] = {}
    if sample.gpus is not None:
        details["system_metric_gpu_processes"] = [
            {
                "gpu_index": gpu.index,
                "pid": process.pid,
                "process_name": process.name,
                "used_memory_mib": process.used_memory_mib,
            }
            for gpu in sample.gpus.devices
            for process in gpu.processes
        ]
    if sample.processes is not None:
        details["system_metric_processes"] = [
            {
                "ranking": ranking,
                "rank": rank,
                "pid": info.pid,
                "name": info.name,
                "username": info.username,
                "cpu_percent": info.cpu_percent,
                "memory_percent": info.memory_percent,
                "rss_bytes": info.rss_bytes,
            }
            for ranking, infos in (("cpu", sample.processes.top_cpu), ("memory", sample.processes.top_memory))
            for rank, info in enumerate(infos, start=1)
        ]
    details["system_metric_collectors"] = [
        {
            "collector": outcome.name,
            "duration_seconds": outcome.duration_seconds,
            "success": outcome.success,
            "error_message": outcome.error,
        }
        for outcome in sample.collectors
    ]
    return details


def baseline_values(sample: Sample) -> dict[str, object] | None:
    """The host's process baseline: each process's (create time, CPU seconds), for the next sample's ranking."""
    if sample.processes is None:
        return None
    counters = json.dumps(
        {row.pid: [row.create_time, round(row.cpu_seconds, 3)] for row in sample.processes.table}, separators=(",", ":")
    )
    return {"hostname": sample.hostname, "taken_at": sample.timestamp, "counters_json": counters}
