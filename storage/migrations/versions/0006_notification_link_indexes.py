"""indexes on the notifications' links to samples and runs

`main.py db prune` deletes old samples and runs; each deleted row's notifications are found by these columns
(and SQLite's foreign-key check looks them up too), which without an index is a scan of notifications per row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 08:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_notifications_job_execution_id", "notifications", ["job_execution_id"])
    op.create_index("ix_notifications_system_metric_id", "notifications", ["system_metric_id"])


def downgrade() -> None:
    op.drop_index("ix_notifications_system_metric_id", table_name="notifications")
    op.drop_index("ix_notifications_job_execution_id", table_name="notifications")
