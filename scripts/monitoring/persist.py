"""Turning a Sample into row values for storage.tables (no SQL here: storage.metrics_store writes them)."""

from __future__ import annotations

from datetime import datetime, timezone

from scripts.monitoring.sample import GIB, IoCounters, IoRates, NicRates, Sample
from scripts.monitoring.snapshot import process_baseline_json
from storage.metrics_store import SampleRows


def sample_rows(sample: Sample) -> SampleRows:
    """The system_metrics values of a sample and the rows of its detail tables."""
    row = SampleRows(metric=dict(
        timestamp=sample.timestamp,
        hostname=sample.hostname,
        platform=sample.platform,
        boot_time=datetime.fromtimestamp(sample.boot_time, timezone.utc) if sample.boot_time else None,
        gpu_count=len(sample.gpus.devices) if sample.gpus is not None else None,
        rate_interval_seconds=sample.rate_interval_seconds,
        collection_seconds=round(sample.collection_seconds, 6),
    ), details={})
    _fill_cpu(row, sample)
    _fill_memory(row, sample)
    _fill_disks(row, sample)
    _fill_network(row, sample)
    _fill_gpus(row, sample)
    _fill_sensors_and_processes(row, sample)
    row.details["system_metric_collectors"] = [
        dict(collector=outcome.name, duration_seconds=outcome.duration_seconds, success=outcome.success,
             error_message=outcome.error)
        for outcome in sample.collectors
    ]
    return row


def baseline_values(sample: Sample) -> dict[str, object] | None:
    counters = process_baseline_json(sample)
    if counters is None:
        return None
    return dict(hostname=sample.hostname, taken_at=sample.timestamp, counters_json=counters)


def _fill_cpu(row: SampleRows, sample: Sample) -> None:
    cpu = sample.cpu
    if cpu is None:
        return
    row.metric["cpu_percent"] = cpu.percent
    row.metric["cpu_count"] = cpu.logical_count
    row.metric["cpu_physical_count"] = cpu.physical_count
    row.metric["cpu_frequency_mhz"] = cpu.frequency_mhz
    row.metric["cpu_busy_seconds_total"] = cpu.times.busy_seconds
    row.metric["cpu_seconds_total"] = cpu.times.total_seconds
    row.metric.update(load_1m=cpu.load_1m, load_5m=cpu.load_5m, load_15m=cpu.load_15m)
    row.metric["load_per_core"] = cpu.load_per_core
    percents = cpu.core_percents or [None] * len(cpu.core_times)
    row.details["system_metric_cpu_cores"] = [
        dict(core_index=index, percent=percent, busy_seconds_total=times.busy_seconds,
             seconds_total=times.total_seconds)
        for index, (times, percent) in enumerate(zip(cpu.core_times, percents, strict=True))
    ]


def _fill_memory(row: SampleRows, sample: Sample) -> None:
    memory = sample.memory
    if memory is None:
        return
    row.metric["memory_total_gb"] = memory.total_bytes / GIB
    row.metric["memory_used_gb"] = memory.used_bytes / GIB
    row.metric["memory_available_gb"] = memory.available_bytes / GIB
    row.metric["memory_percent"] = memory.percent
    row.metric["swap_total_gb"] = memory.swap_total_bytes / GIB
    row.metric["swap_used_gb"] = memory.swap_used_bytes / GIB
    row.metric["swap_percent"] = memory.swap_percent


def _columns(value: tuple | None, kind: type, prefix: str = "", suffix: str = "") -> dict[str, object]:
    """A NamedTuple's fields as column values (or the same columns as NULL), e.g. read_bytes -> read_bytes_total."""
    values = value._asdict() if value is not None else dict.fromkeys(kind._fields)  # type: ignore[attr-defined]
    return {f"{prefix}{name}{suffix}": item for name, item in values.items()}


def _fill_disks(row: SampleRows, sample: Sample) -> None:
    disks = sample.disks
    if disks is None:
        return
    system = sample.system_disk_reading
    if system is not None:
        row.metric["disk_mountpoint"] = system.mountpoint
        row.metric["disk_total_gb"] = system.total_bytes / GIB
        row.metric["disk_used_gb"] = system.used_bytes / GIB
        row.metric["disk_percent"] = system.percent
    row.metric.update(_columns(disks.io_total, IoCounters, "disk_", "_total"))
    row.metric.update(_columns(disks.io_total_rates, IoRates, "disk_"))
    row.details["system_metric_disks"] = [
        dict(
            mountpoint=disk.mountpoint, device=disk.device, fstype=disk.fstype, io_device=disk.io_device,
            total_bytes=disk.total_bytes, used_bytes=disk.used_bytes, free_bytes=disk.free_bytes,
            percent=disk.percent, **_columns(disk.io, IoCounters, suffix="_total"), **_columns(disk.rates, IoRates),
        )
        for disk in disks.mounts
    ]


def _fill_network(row: SampleRows, sample: Sample) -> None:
    network = sample.network
    if network is None:
        return
    row.metric["network_sent_mb"] = network.sent_mb
    row.metric["network_recv_mb"] = network.recv_mb
    totals = network.total_rates
    if totals is not None:
        row.metric["network_sent_bytes_per_second"] = totals.sent_bytes_per_second
        row.metric["network_recv_bytes_per_second"] = totals.recv_bytes_per_second
        row.metric["network_packets_sent_per_second"] = totals.packets_sent_per_second
        row.metric["network_packets_recv_per_second"] = totals.packets_recv_per_second
        row.metric["network_errors_per_second"] = totals.errors_in_per_second + totals.errors_out_per_second
        row.metric["network_drops_per_second"] = totals.drops_in_per_second + totals.drops_out_per_second
    row.details["system_metric_networks"] = [
        dict(
            interface=nic.name, is_up=nic.is_up, speed_mbps=nic.speed_mbps,
            bytes_sent_total=nic.counters.bytes_sent, bytes_recv_total=nic.counters.bytes_recv,
            packets_sent_total=nic.counters.packets_sent, packets_recv_total=nic.counters.packets_recv,
            errors_in_total=nic.counters.errin, errors_out_total=nic.counters.errout,
            drops_in_total=nic.counters.dropin, drops_out_total=nic.counters.dropout,
            **_columns(nic.rates, NicRates),
        )
        for nic in network.interfaces
    ]


def _fill_gpus(row: SampleRows, sample: Sample) -> None:
    if sample.gpus is None:
        return
    row.details["system_metric_gpus"] = [
        dict(
            gpu_index=gpu.index, name=gpu.name, uuid=gpu.uuid, utilization_percent=gpu.utilization_percent,
            memory_utilization_percent=gpu.memory_utilization_percent, memory_total_mib=gpu.memory_total_mib,
            memory_used_mib=gpu.memory_used_mib, memory_percent=gpu.memory_percent,
            temperature_celsius=gpu.temperature_celsius, power_draw_watts=gpu.power_draw_watts,
            power_limit_watts=gpu.power_limit_watts, fan_percent=gpu.fan_percent,
            error_message="; ".join(gpu.problems) or None,
        )
        for gpu in sample.gpus.devices
    ]
    row.details["system_metric_gpu_processes"] = [
        dict(gpu_index=gpu.index, pid=process.pid, process_name=process.name,
                               used_memory_mib=process.used_memory_mib)
        for gpu in sample.gpus.devices
        for process in gpu.processes
    ]


def _fill_sensors_and_processes(row: SampleRows, sample: Sample) -> None:
    if sample.sensors is not None:
        row.details["system_metric_sensors"] = [dict(chip=sensor.chip, label=sensor.label,
                                          current_celsius=sensor.current_celsius, high_celsius=sensor.high_celsius,
                                          critical_celsius=sensor.critical_celsius)
                       for sensor in sample.sensors]
    if sample.processes is not None:
        row.details["system_metric_processes"] = [
            dict(ranking=ranking, rank=rank, pid=info.pid, name=info.name, username=info.username,
                                cpu_percent=info.cpu_percent, memory_percent=info.memory_percent,
                                rss_bytes=info.rss_bytes)
            for ranking, infos in (("cpu", sample.processes.top_cpu), ("memory", sample.processes.top_memory))
            for rank, info in enumerate(infos, start=1)
        ]

