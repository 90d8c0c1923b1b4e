"""ORM models; importing this package registers every table on Base.metadata."""

from storage.models.alerts import AlertIncident, AlertSilence, NotificationDelivery
from storage.models.base import Base
from storage.models.jobs import ExecutionStatus, ExecutionTrigger, Job, JobExecution, JobType
from storage.models.metrics import (
    ProcessCpuBaseline,
    SystemMetric,
    SystemMetricCollector,
    SystemMetricCpuCore,
    SystemMetricDisk,
    SystemMetricGpu,
    SystemMetricGpuProcess,
    SystemMetricNetwork,
    SystemMetricProcess,
    SystemMetricSensor,
)
from storage.models.notifications import Notification

__all__ = [
    "AlertIncident",
    "AlertSilence",
    "Base",
    "ExecutionStatus",
    "ExecutionTrigger",
    "Job",
    "JobExecution",
    "JobType",
    "Notification",
    "NotificationDelivery",
    "ProcessCpuBaseline",
    "SystemMetric",
    "SystemMetricCollector",
    "SystemMetricCpuCore",
    "SystemMetricDisk",
    "SystemMetricGpu",
    "SystemMetricGpuProcess",
    "SystemMetricNetwork",
    "SystemMetricProcess",
    "SystemMetricSensor",
]
