"""Containers: one row per container per sample, and the HiCloud seed's `server` and `container` as views

`system_metric_containers` holds each container the engine listed with a sample: its state, health, restarts,
last exit code and OOM flag, its figures (CPU as cores and as a share of the host, memory without page cache, its
limit and share, network and block I/O rates, processes), its restarts within CONTAINER_RESTART_WINDOW, whether it
is gone since the previous sample, and the raw counters the next sample's rates start from.

The views give the HiCloud seed's tables with its column names and units (MB, percentages with two decimals), so
its users' queries and dashboards keep working: `server` over system_metrics, `container` over the container rows.
`agent_id` and `node_name` are the host's name; times are UTC.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 14:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "system_metric_containers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("system_metric_id", _ID, nullable=False),
        sa.Column("container_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("image", sa.String(512), nullable=True),
        sa.Column("engine", sa.String(16), nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("health", sa.String(16), nullable=True),
        sa.Column("restart_count", sa.Integer(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("oom_killed", sa.Boolean(), nullable=True),
        sa.Column("started_at", sa.String(64), nullable=True),
        sa.Column("cpu_ns_total", sa.BigInteger(), nullable=True),
        sa.Column("net_rx_bytes_total", sa.BigInteger(), nullable=True),
        sa.Column("net_tx_bytes_total", sa.BigInteger(), nullable=True),
        sa.Column("block_read_bytes_total", sa.BigInteger(), nullable=True),
        sa.Column("block_write_bytes_total", sa.BigInteger(), nullable=True),
        sa.Column("cpu_cores", sa.Double(), nullable=True),
        sa.Column("cpu_host_percent", sa.Double(), nullable=True),
        sa.Column("memory_used_bytes", sa.BigInteger(), nullable=True),
        sa.Column("memory_limit_bytes", sa.BigInteger(), nullable=True),
        sa.Column("memory_percent", sa.Double(), nullable=True),
        sa.Column("net_rx_bytes_per_second", sa.Double(), nullable=True),
        sa.Column("net_tx_bytes_per_second", sa.Double(), nullable=True),
        sa.Column("block_read_bytes_per_second", sa.Double(), nullable=True),
        sa.Column("block_write_bytes_per_second", sa.Double(), nullable=True),
        sa.Column("pids", sa.Integer(), nullable=True),
        sa.Column("restarts_in_window", sa.Integer(), nullable=True),
        sa.Column("gone", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["system_metric_id"],
            ["system_metrics.id"],
            name=op.f("fk_system_metric_containers_system_metric_id_system_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_metric_containers")),
    )
    op.create_index("ix_system_metric_containers_system_metric_id", "system_metric_containers", ["system_metric_id"])
    op.create_index("ix_system_metric_containers_name", "system_metric_containers", ["name"])
    dialect = op.get_bind().dialect.name
    op.execute(f"CREATE VIEW server AS {server_select(dialect)}")
    op.execute(f"CREATE VIEW container AS {container_select(dialect)}")


def downgrade() -> None:
    op.execute("DROP VIEW container")
    op.execute("DROP VIEW server")
    op.drop_index("ix_system_metric_containers_name", "system_metric_containers")
    op.drop_index("ix_system_metric_containers_system_metric_id", "system_metric_containers")
    op.drop_table("system_metric_containers")


def _decimal(expression: str, dialect: str) -> str:
    """A figure with two decimals, as the seed's DECIMAL columns hold it."""
    return f"ROUND({expression}, 2)" if dialect == "sqlite" else f"CAST({expression} AS DECIMAL(12, 2))"


def _whole(expression: str, dialect: str) -> str:
    """A whole number, as the seed's INT columns hold it."""
    return f"CAST(ROUND({expression}) AS {'SIGNED' if dialect in ('mysql', 'mariadb') else 'INTEGER'})"


def server_select(dialect: str) -> str:
    """The seed's `server` table: each sample's CPU and memory, memory in MB."""
    engine = "(SELECT MAX(c.engine) FROM system_metric_containers c WHERE c.system_metric_id = m.id)"
    return (
        f"SELECT m.id AS id, {engine} AS engine_type, m.hostname AS agent_id, m.cpu_count AS ser_cpu_count, "
        f"{_decimal('m.cpu_percent', dialect)} AS ser_cpu_percent, "
        f"{_whole('m.memory_total_gb * 1024', dialect)} AS ser_memory_total, "
        f"{_whole('m.memory_used_gb * 1024', dialect)} AS ser_memory_used, "
        f"{_decimal('m.memory_percent', dialect)} AS ser_memory_percent, m.timestamp AS ser_get_datetime "
        "FROM system_metrics m"
    )


def container_select(dialect: str) -> str:
    """The seed's `container` table: each container's state, CPU as a share of the host (what the seed's agent
    computes), memory in MB and as a share of its limit."""
    return (
        "SELECT c.id AS id, c.engine AS engine_type, m.hostname AS agent_id, m.hostname AS node_name, "
        "c.name AS container_name, c.state AS status, "
        f"{_decimal('c.cpu_host_percent', dialect)} AS con_cpu_percent, "
        f"{_decimal('c.memory_used_bytes / 1048576.0', dialect)} AS con_memory_usage, "
        f"{_decimal('c.memory_percent', dialect)} AS con_memory_percent, m.timestamp AS con_get_datetime "
        "FROM system_metric_containers c JOIN system_metrics m ON m.id = c.system_metric_id"
    )
