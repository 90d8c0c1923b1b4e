"""Ids and the foreign keys that hold them are 64-bit on PostgreSQL and MariaDB/MySQL

They were 32-bit INTEGER there: an id from 2**31 up could neither be stored nor looked up (the API answered
500 for GET /jobs/2147483648), though the API serves ids up to 2**63 - 1. SQLite's INTEGER is 64-bit already
and stays as it is (the id is the rowid). On PostgreSQL the sequences behind the ids grow to bigint too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 12:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine.interfaces import ReflectedForeignKeyConstraint

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_TABLES = (
    "alert_incidents",
    "alert_silences",
    "jobs",
    "system_metrics",
    "job_executions",
    "system_metric_collectors",
    "system_metric_cpu_cores",
    "system_metric_disks",
    "system_metric_gpu_processes",
    "system_metric_gpus",
    "system_metric_networks",
    "system_metric_processes",
    "system_metric_sensors",
    "notifications",
    "notification_deliveries",
)
# (table, column, nullable) of every foreign key to one of those ids.
FOREIGN_KEYS = (
    ("job_executions", "job_id", True),
    *((table, "system_metric_id", False) for table in ID_TABLES if table.startswith("system_metric_")),
    ("notifications", "job_execution_id", True),
    ("notifications", "system_metric_id", True),
    ("notifications", "incident_id", True),
    ("notification_deliveries", "notification_id", False),
)


def upgrade() -> None:
    _set_id_type(sa.Integer(), sa.BigInteger(), "bigint")


def downgrade() -> None:
    _set_id_type(sa.BigInteger(), sa.Integer(), "integer")


def _set_id_type(old: sa.types.TypeEngine, new: sa.types.TypeEngine, sequence_type: str) -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "sqlite":
        return
    mysql = dialect in ("mysql", "mariadb")
    # MySQL and MariaDB change no column a foreign key links: drop the keys there (as found: a database
    # upgraded from the seed platform names some differently), and add them back afterwards.
    linked = _foreign_keys(bind) if mysql else []
    for table, key in linked:
        assert key["name"], key  # MySQL names every foreign key
        op.drop_constraint(key["name"], table, type_="foreignkey")
    for table, column, nullable in FOREIGN_KEYS:
        op.alter_column(table, column, type_=new, existing_type=old, existing_nullable=nullable)
    for table in ID_TABLES:
        op.alter_column(
            table, "id", type_=new, existing_type=old, existing_nullable=False, autoincrement=True if mysql else None
        )
        if dialect == "postgresql":
            sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table}).scalar()
            if sequence is not None:
                op.execute(f"ALTER SEQUENCE {sequence} AS {sequence_type}")
    for table, key in linked:
        op.create_foreign_key(
            key["name"],
            table,
            key["referred_table"],
            key["constrained_columns"],
            key["referred_columns"],
            ondelete=key.get("options", {}).get("ondelete"),
        )


def _foreign_keys(bind: sa.engine.Connection) -> list[tuple[str, ReflectedForeignKeyConstraint]]:
    """The foreign keys on the columns FOREIGN_KEYS names, as the database has them."""
    inspector = sa.inspect(bind)
    columns = {(table, column) for table, column, _ in FOREIGN_KEYS}
    return [
        (table, key)
        for table in sorted({table for table, _ in columns})
        for key in inspector.get_foreign_keys(table)
        if any((table, column) in columns for column in key["constrained_columns"])
    ]
