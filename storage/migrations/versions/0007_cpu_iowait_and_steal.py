"""CPU I/O wait and steal: the cumulative seconds the next sample's rates start from, and the shares

Virtual machines lose time to their hypervisor (steal) and storage-bound machines sit idle waiting for I/O
(iowait); both are shares of the CPU time that passed since the previous sample, as CPU usage is. Samples stored
before this revision have NULL there (the first sample after it has no rate to give either).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("cpu_iowait_seconds_total", "cpu_steal_seconds_total", "cpu_iowait_percent", "cpu_steal_percent")


def upgrade() -> None:
    for name in _COLUMNS:
        op.add_column("system_metrics", sa.Column(name, sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("system_metrics") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
