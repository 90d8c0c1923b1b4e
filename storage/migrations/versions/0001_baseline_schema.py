"""baseline schema

Creates every table. A table that already exists (a database made by the seed platform's create_all) is
completed instead: missing columns are added as nullable and missing indexes created, keeping its rows. Its
existing columns keep their types and nullability, and no foreign keys are added to it (SQLite would need
the table rebuilt): an adopted seed database works, but differs in those details from a fresh one.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 02:31:20.782986

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create_or_complete(name: str, *elements: sa.schema.SchemaItem) -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(name):
        op.create_table(name, *elements)
        return
    existing = {column["name"] for column in inspector.get_columns(name)}
    for element in elements:
        if isinstance(element, sa.Column) and element.name not in existing:
            op.add_column(name, sa.Column(element.name, element.type, nullable=True))


def _create_index_if_missing(index_name: str, table: str, columns: list[str]) -> None:
    if index_name not in {index["name"] for index in sa.inspect(op.get_bind()).get_indexes(table)}:
        op.create_index(index_name, table, columns)


def upgrade() -> None:
    """Upgrade schema."""
    _create_or_complete(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "job_type",
            sa.Enum(
                "MONITORING",
                "BACKUP",
                "SECURITY",
                "LOG_ANALYSIS",
                "CLEANUP",
                "REPORT",
                "CUSTOM",
                name="jobtype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("script_path", sa.String(length=1024), nullable=True),
        sa.Column("script_args", sa.Text(), nullable=True),
        sa.Column("cron_expression", sa.String(length=128), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("max_retries", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("name", name=op.f("uq_jobs_name")),
    )
    _create_or_complete(
        "process_cpu_baselines",
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("taken_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("counters_json", storage.types.LongText(), nullable=False),
        sa.PrimaryKeyConstraint("hostname", name=op.f("pk_process_cpu_baselines")),
    )
    _create_or_complete(
        "system_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timestamp", storage.types.UTCDateTime(), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("boot_time", storage.types.UTCDateTime(), nullable=True),
        sa.Column("cpu_percent", sa.Double(), nullable=True),
        sa.Column("cpu_count", sa.Integer(), nullable=True),
        sa.Column("cpu_physical_count", sa.Integer(), nullable=True),
        sa.Column("cpu_frequency_mhz", sa.Double(), nullable=True),
        sa.Column("cpu_busy_seconds_total", sa.Double(), nullable=True),
        sa.Column("cpu_seconds_total", sa.Double(), nullable=True),
        sa.Column("load_1m", sa.Double(), nullable=True),
        sa.Column("load_5m", sa.Double(), nullable=True),
        sa.Column("load_15m", sa.Double(), nullable=True),
        sa.Column("load_per_core", sa.Double(), nullable=True),
        sa.Column("memory_total_gb", sa.Double(), nullable=True),
        sa.Column("memory_used_gb", sa.Double(), nullable=True),
        sa.Column("memory_available_gb", sa.Double(), nullable=True),
        sa.Column("memory_percent", sa.Double(), nullable=True),
        sa.Column("swap_total_gb", sa.Double(), nullable=True),
        sa.Column("swap_used_gb", sa.Double(), nullable=True),
        sa.Column("swap_percent", sa.Double(), nullable=True),
        sa.Column("disk_mountpoint", sa.String(length=512), nullable=True),
        sa.Column("disk_total_gb", sa.Double(), nullable=True),
        sa.Column("disk_used_gb", sa.Double(), nullable=True),
        sa.Column("disk_percent", sa.Double(), nullable=True),
        sa.Column("disk_read_bytes_total", sa.BigInteger(), nullable=True),
        sa.Column("disk_write_bytes_total", sa.BigInteger(), nullable=True),
        sa.Column("disk_read_count_total", sa.BigInteger(), nullable=True),
        sa.Column("disk_write_count_total", sa.BigInteger(), nullable=True),
        sa.Column("disk_read_bytes_per_second", sa.Double(), nullable=True),
        sa.Column("disk_write_bytes_per_second", sa.Double(), nullable=True),
        sa.Column("disk_read_ops_per_second", sa.Double(), nullable=True),
        sa.Column("disk_write_ops_per_second", sa.Double(), nullable=True),
        sa.Column("network_sent_mb", sa.Double(), nullable=True),
        sa.Column("network_recv_mb", sa.Double(), nullable=True),
        sa.Column("network_sent_bytes_per_second", sa.Double(), nullable=True),
        sa.Column("network_recv_bytes_per_second", sa.Double(), nullable=True),
        sa.Column("network_packets_sent_per_second", sa.Double(), nullable=True),
        sa.Column("network_packets_recv_per_second", sa.Double(), nullable=True),
        sa.Column("network_errors_per_second", sa.Double(), nullable=True),
        sa.Column("network_drops_per_second", sa.Double(), nullable=True),
        sa.Column("gpu_count", sa.Integer(), nullable=True),
        sa.Column("rate_interval_seconds", sa.Double(), nullable=True),
        sa.Column("collection_seconds", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_metrics")),
    )
    _create_index_if_missing("ix_system_metrics_hostname_timestamp", "system_metrics", ["hostname", "timestamp"])

    _create_or_complete(
        "job_executions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("job_name", sa.String(length=128), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "success",
                "failed",
                "timeout",
                "skipped",
                "missed",
                "cancelled",
                "abandoned",
                name="executionstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "trigger",
            sa.Enum("schedule", "manual", "catch-up", "os-cron", name="executiontrigger", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("scheduled_for", storage.types.UTCDateTime(), nullable=True),
        sa.Column("started_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("completed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("duration_seconds", sa.Double(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("stdout", sa.Text(), nullable=True),
        sa.Column("stderr", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_executions_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_executions")),
    )
    _create_index_if_missing("ix_job_executions_job_id", "job_executions", ["job_id"])

    _create_or_complete(
        "system_metric_collectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_metric_id", sa.Integer(), nullable=False),
        sa.Column("collector", sa.String(length=32), nullable=False),
        sa.Column("duration_seconds", sa.Double(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["system_metric_id"],
            ["system_metrics.id"],
            name=op.f("fk_system_metric_collectors_system_metric_id_system_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_metric_collectors")),
    )
    _create_index_if_missing(
        "ix_system_metric_collectors_system_metric_id", "system_metric_collectors", ["system_metric_id"]
    )

    _create_or_complete(
        "system_metric_cpu_cores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_metric_id", sa.Integer(), nullable=False),
        sa.Column("core_index", sa.Integer(), nullable=False),
        sa.Column("percent", sa.Double(), nullable=True),
        sa.Column("busy_seconds_total", sa.Double(), nullable=False),
        sa.Column("seconds_total", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["system_metric_id"],
            ["system_metrics.id"],
            name=op.f("fk_system_metric_cpu_cores_system_metric_id_system_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_metric_cpu_cores")),
    )
    _create_index_if_missing(
        "ix_system_metric_cpu_cores_system_metric_id", "system_metric_cpu_cores", ["system_metric_id"]
    )

    _create_or_complete(
        "system_metric_disks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_metric_id", sa.Integer(), nullable=False),
        sa.Column("mountpoint", sa.String(length=512), nullable=False),
        sa.Column("device", sa.String(length=512), nullable=True),
        sa.Column("fstype", sa.String(length=64), nullable=True),
        sa.Column("io_device", sa.String(length=255), nullable=True),
        sa.Column("total_bytes", sa.BigInteger(), nullable=True),
        sa.Column("used_bytes", sa.BigInteger(), nullable=True),
        sa.Column("free_bytes", sa.BigInteger(), nullable=True),
        sa.Column("percent", sa.Double(), nullable=True),
        sa.Column("read_bytes_total", sa.BigInteger(), nullable=True),
        sa.Column("write_bytes_total", sa.BigInteger(), nullable=True),
        sa.Column("read_count_total", sa.BigInteger(), nullable=True),
        sa.Column("write_count_total", sa.BigInteger(), nullable=True),
        sa.Column("read_bytes_per_second", sa.Double(), nullable=True),
        sa.Column("write_bytes_per_second", sa.Double(), nullable=True),
        sa.Column("read_ops_per_second", sa.Double(), nullable=True),
        sa.Column("write_ops_per_second", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["system_metric_id"],
            ["system_metrics.id"],
            name=op.f("fk_system_metric_disks_system_metric_id_system_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_metric_disks")),
    )
    _create_index_if_missing("ix_system_metric_disks_system_metric_id", "system_metric_disks", ["system_metric_id"])

    _create_or_complete(
        "system_metric_gpu_processes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_metric_id", sa.Integer(), nullable=False),
        sa.Column("gpu_index", sa.Integer(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("process_name", sa.String(length=255), nullable=True),
        sa.Column("used_memory_mib", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["system_metric_id"],
            ["system_metrics.id"],
            name=op.f("fk_system_metric_gpu_processes_system_metric_id_system_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_metric_gpu_processes")),
    )
    _create_index_if_missing(
        "ix_system_metric_gpu_processes_system_metric_id", "system_metric_gpu_processes", ["system_metric_id"]
    )

    _create_or_complete(
        "system_metric_gpus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_metric_id", sa.Integer(), nullable=False),
        sa.Column("gpu_index", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("uuid", sa.String(length=128), nullable=True),
        sa.Column("utilization_percent", sa.Double(), nullable=True),
        sa.Column("memory_utilization_percent", sa.Double(), nullable=True),
        sa.Column("memory_total_mib", sa.Double(), nullable=True),
        sa.Column("memory_used_mib", sa.Double(), nullable=True),
        sa.Column("memory_percent", sa.Double(), nullable=True),
        sa.Column("temperature_celsius", sa.Double(), nullable=True),
        sa.Column("power_draw_watts", sa.Double(), nullable=True),
        sa.Column("power_limit_watts", sa.Double(), nullable=True),
        sa.Column("fan_percent", sa.Double(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["system_metric_id"],
            ["system_metrics.id"],
            name=op.f("fk_system_metric_gpus_system_metric_id_system_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_metric_gpus")),
    )
    _create_index_if_missing("ix_system_metric_gpus_system_metric_id", "system_metric_gpus", ["system_metric_id"])

    _create_or_complete(
        "system_metric_networks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_metric_id", sa.Integer(), nullable=False),
        sa.Column("interface", sa.String(length=255), nullable=False),
        sa.Column("is_up", sa.Boolean(), nullable=True),
        sa.Column("speed_mbps", sa.Integer(), nullable=True),
        sa.Column("bytes_sent_total", sa.BigInteger(), nullable=False),
        sa.Column("bytes_recv_total", sa.BigInteger(), nullable=False),
        sa.Column("packets_sent_total", sa.BigInteger(), nullable=False),
        sa.Column("packets_recv_total", sa.BigInteger(), nullable=False),
        sa.Column("errors_in_total", sa.BigInteger(), nullable=False),
        sa.Column("errors_out_total", sa.BigInteger(), nullable=False),
        sa.Column("drops_in_total", sa.BigInteger(), nullable=False),
        sa.Column("drops_out_total", sa.BigInteger(), nullable=False),
        sa.Column("sent_bytes_per_second", sa.Double(), nullable=True),
        sa.Column("recv_bytes_per_second", sa.Double(), nullable=True),
        sa.Column("packets_sent_per_second", sa.Double(), nullable=True),
        sa.Column("packets_recv_per_second", sa.Double(), nullable=True),
        sa.Column("errors_in_per_second", sa.Double(), nullable=True),
        sa.Column("errors_out_per_second", sa.Double(), nullable=True),
        sa.Column("drops_in_per_second", sa.Double(), nullable=True),
        sa.Column("drops_out_per_second", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["system_metric_id"],
            ["system_metrics.id"],
            name=op.f("fk_system_metric_networks_system_metric_id_system_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_metric_networks")),
    )
    _create_index_if_missing(
        "ix_system_metric_networks_system_metric_id", "system_metric_networks", ["system_metric_id"]
    )

    _create_or_complete(
        "system_metric_processes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_metric_id", sa.Integer(), nullable=False),
        sa.Column("ranking", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("cpu_percent", sa.Double(), nullable=True),
        sa.Column("memory_percent", sa.Double(), nullable=True),
        sa.Column("rss_bytes", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["system_metric_id"],
            ["system_metrics.id"],
            name=op.f("fk_system_metric_processes_system_metric_id_system_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_metric_processes")),
    )
    _create_index_if_missing(
        "ix_system_metric_processes_system_metric_id", "system_metric_processes", ["system_metric_id"]
    )

    _create_or_complete(
        "system_metric_sensors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_metric_id", sa.Integer(), nullable=False),
        sa.Column("chip", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=True),
        sa.Column("current_celsius", sa.Double(), nullable=True),
        sa.Column("high_celsius", sa.Double(), nullable=True),
        sa.Column("critical_celsius", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["system_metric_id"],
            ["system_metrics.id"],
            name=op.f("fk_system_metric_sensors_system_metric_id_system_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_metric_sensors")),
    )
    _create_index_if_missing("ix_system_metric_sensors_system_metric_id", "system_metric_sensors", ["system_metric_id"])

    _create_or_complete(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("job_execution_id", sa.Integer(), nullable=True),
        sa.Column("system_metric_id", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("metric", sa.String(length=64), nullable=True),
        sa.Column("resource", sa.String(length=512), nullable=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("threshold", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_execution_id"],
            ["job_executions.id"],
            name=op.f("fk_notifications_job_execution_id_job_executions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["system_metric_id"],
            ["system_metrics.id"],
            name=op.f("fk_notifications_system_metric_id_system_metrics"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    _create_index_if_missing("ix_notifications_channel_sent_at", "notifications", ["channel", "sent_at"])


def downgrade() -> None:
    """Downgrade schema (dropping a table drops its indexes)."""
    for table in [
        "notifications",
        "system_metric_sensors",
        "system_metric_processes",
        "system_metric_networks",
        "system_metric_gpus",
        "system_metric_gpu_processes",
        "system_metric_disks",
        "system_metric_cpu_cores",
        "system_metric_collectors",
        "job_executions",
        "system_metrics",
        "process_cpu_baselines",
        "jobs",
    ]:
        op.drop_table(table)
