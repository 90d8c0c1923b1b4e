"""Job runs say who runs them and that they are alive: the process id and a heartbeat

A run started outside the scheduler (`jobs run`, the OS cron line) that was killed left its row `running`
forever, and the scheduler skipped every later slot of its job. With the pid and a heartbeat such a run is
recognised as gone and marked abandoned. Rows from before this revision have NULL in both.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("job_executions", sa.Column("pid", sa.Integer(), nullable=True))
    op.add_column("job_executions", sa.Column("heartbeat_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_executions") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("pid")
