"""scheduler claims and instances

A unique (job_id, scheduled_for) index makes claiming a slot an INSERT that only one scheduler can win;
scheduler_instances holds each scheduler's heartbeat, so runs left behind by one that died can be marked
abandoned; jobs gain max_instances, retry_timeouts, a per-job time zone and a catch-up policy for downtime.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:52:19.105362

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "scheduler_instances",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("stopped_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_instances")),
    )
    with op.batch_alter_table("job_executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=64), nullable=True))
        batch_op.create_index("uq_job_executions_job_id_scheduled_for", ["job_id", "scheduled_for"], unique=True)

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_timeouts", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("max_instances", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("catch_up", sa.String(length=16), server_default="latest", nullable=False))
        batch_op.add_column(sa.Column("catch_up_grace_seconds", sa.Integer(), server_default="3600", nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("catch_up_grace_seconds")
        batch_op.drop_column("catch_up")
        batch_op.drop_column("timezone")
        batch_op.drop_column("max_instances")
        batch_op.drop_column("retry_timeouts")

    with op.batch_alter_table("job_executions", schema=None) as batch_op:
        batch_op.drop_index("uq_job_executions_job_id_scheduled_for")
        batch_op.drop_column("owner")

    op.drop_table("scheduler_instances")
