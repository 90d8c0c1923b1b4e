"""Building the CounterSnapshot that rates start from: from the previous stored sample, or read live."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import psutil

from config.settings import Settings
from scripts.monitoring.collectors import cpu, disk, network, processes
from scripts.monitoring.sample import CounterSnapshot, CpuTimes, IoCounters, NicCounters, Sample
from storage.metrics_store import StoredCounters


def live_snapshot(settings: Settings) -> CounterSnapshot:
    """Counters read now, for the first run on a host (the caller waits a short window before collecting)."""
    enabled = {"cpu", "disk", "network", "processes"} - settings.disabled_collectors
    snapshot = CounterSnapshot(taken_at=datetime.now(timezone.utc), boot_time=psutil.boot_time())
    if "cpu" in enabled:
        snapshot.cpu, snapshot.cores = cpu.read_times()
    if "disk" in enabled:
        snapshot.disk_total, snapshot.disks = disk.read_io()
    if "network" in enabled:
        snapshot.nics = network.read_counters(settings)
    if "processes" in enabled:
        snapshot.processes = {row.pid: (row.create_time, row.cpu_seconds) for row in processes.read_table()}
    return snapshot


def stored_snapshot(stored: StoredCounters) -> CounterSnapshot:
    """Counters of the previous stored sample (and the host's process baseline taken with it)."""
    metric = stored.metric
    snapshot = CounterSnapshot(
        taken_at=metric["timestamp"],
        boot_time=metric["boot_time"].timestamp() if metric["boot_time"] else None,
        cores=[CpuTimes(core["busy_seconds_total"], core["seconds_total"])
               for core in sorted(stored.cores, key=lambda core: core["core_index"])],
        disks={row["io_device"]: IoCounters(row["read_bytes_total"], row["write_bytes_total"],
                                            row["read_count_total"], row["write_count_total"])
               for row in stored.disks if row["io_device"] and row["read_bytes_total"] is not None},
        nics={row["interface"]: NicCounters(row["bytes_sent_total"], row["bytes_recv_total"],
                                            row["packets_sent_total"], row["packets_recv_total"],
                                            row["errors_in_total"], row["errors_out_total"],
                                            row["drops_in_total"], row["drops_out_total"])
              for row in stored.networks},
    )
    if metric["cpu_busy_seconds_total"] is not None and metric["cpu_seconds_total"] is not None:
        snapshot.cpu = CpuTimes(metric["cpu_busy_seconds_total"], metric["cpu_seconds_total"])
    if metric["disk_read_bytes_total"] is not None:
        snapshot.disk_total = IoCounters(metric["disk_read_bytes_total"], metric["disk_write_bytes_total"] or 0,
                                         metric["disk_read_count_total"] or 0, metric["disk_write_count_total"] or 0)
    baseline = stored.baseline
    if baseline is not None and abs((baseline["taken_at"] - metric["timestamp"]).total_seconds()) < 1:
        snapshot.processes = {int(pid): (pair[0], pair[1])
                              for pid, pair in json.loads(baseline["counters_json"]).items()}
    return snapshot


def process_baseline_json(sample: Sample) -> str | None:
    if sample.processes is None:
        return None
    return json.dumps({row.pid: [row.create_time, round(row.cpu_seconds, 3)] for row in sample.processes.table},
                      separators=(",", ":"))
