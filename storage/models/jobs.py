"""Jobs the scheduler runs on cron expressions, and the record of each run."""

from __future__ import annotations

from storage import tables
from storage.enums import ExecutionStatus, ExecutionTrigger, JobType
from storage.models.base import Base

__all__ = ["ExecutionStatus", "ExecutionTrigger", "Job", "JobExecution", "JobType"]


class Job(Base):
    __table__ = tables.jobs
    repr_columns = ("id", "name", "cron_expression")


class JobExecution(Base):
    __table__ = tables.job_executions
