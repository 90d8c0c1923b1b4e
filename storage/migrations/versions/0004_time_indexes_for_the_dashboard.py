"""time indexes for the dashboard

The dashboard lists samples and notifications newest first across every host and channel; without an index on
the time alone that is a sort of the whole table (525,600 rows for a year of per-minute samples).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_system_metrics_timestamp", "system_metrics", ["timestamp"])
    op.create_index("ix_notifications_sent_at", "notifications", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_notifications_sent_at", table_name="notifications")
    op.drop_index("ix_system_metrics_timestamp", table_name="system_metrics")
