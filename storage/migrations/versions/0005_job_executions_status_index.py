"""an index on job_executions.status

Runs asked for from the dashboard wait as pending rows until a scheduler takes them; every scheduler looks
for them once a second, and with years of runs in the table that must not be a scan.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 07:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_job_executions_status", "job_executions", ["status"])


def downgrade() -> None:
    op.drop_index("ix_job_executions_status", table_name="job_executions")
