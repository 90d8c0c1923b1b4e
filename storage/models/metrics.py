"""Monitoring samples and their detail rows (see storage.tables for the columns and their units)."""

from __future__ import annotations

from sqlalchemy.orm import relationship

from storage import tables
from storage.models.base import Base


def _children(target: str):  # type: ignore[no-untyped-def]
    return relationship(target, cascade="all, delete-orphan", passive_deletes=True)


class SystemMetric(Base):
    __table__ = tables.system_metrics

    cores = _children("SystemMetricCpuCore")
    disks = _children("SystemMetricDisk")
    networks = _children("SystemMetricNetwork")
    gpus = _children("SystemMetricGpu")
    gpu_processes = _children("SystemMetricGpuProcess")
    sensors = _children("SystemMetricSensor")
    processes = _children("SystemMetricProcess")
    collectors = _children("SystemMetricCollector")


class SystemMetricCpuCore(Base):
    __table__ = tables.system_metric_cpu_cores


class SystemMetricDisk(Base):
    __table__ = tables.system_metric_disks


class SystemMetricNetwork(Base):
    __table__ = tables.system_metric_networks


class SystemMetricGpu(Base):
    __table__ = tables.system_metric_gpus


class SystemMetricGpuProcess(Base):
    __table__ = tables.system_metric_gpu_processes


class SystemMetricSensor(Base):
    __table__ = tables.system_metric_sensors


class SystemMetricProcess(Base):
    __table__ = tables.system_metric_processes


class SystemMetricCollector(Base):
    __table__ = tables.system_metric_collectors


class ProcessCpuBaseline(Base):
    """Per host, the CPU seconds of every process at the last sample, so the next one can rank processes by
    CPU used in between without sleeping. One row per host, replaced each run (not history)."""

    __table__ = tables.process_cpu_baselines
