"""Fleet ingest: what the hub knows of each host's pushes, the outboxes it has read, the gaps agents reported

`hosts` gains when a host last pushed and its newest sample's time, its agent's version, interval and clock
skew, and maintenance. `host_outboxes` holds, per agent outbox, the highest sequence number stored: a replayed
batch (a lost answer, a killed agent, another hub) inserts nothing twice. `host_gaps` records what an agent had
to drop while the hub was away. `fleet_state` is the one row the silent-host check locks, so that several hubs
on one database raise each incident once, and where a hub that was down leaves the grace period.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 13:00:00

"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_HOST_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("last_seen_at", storage.types.UTCDateTime()),
    ("last_collected_at", storage.types.UTCDateTime()),
    ("agent_version", sa.String(200)),
    ("source", sa.String(32)),
    ("interval_seconds", sa.Double()),
    ("clock_skew_seconds", sa.Double()),
    ("maintenance_since", storage.types.UTCDateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("hosts") as batch:
        for name, column_type in _HOST_COLUMNS:
            batch.add_column(sa.Column(name, column_type, nullable=True))
    op.create_table(
        "host_outboxes",
        sa.Column("host_id", _ID, sa.ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("outbox_id", sa.String(32), primary_key=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "host_gaps",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("host_id", _ID, sa.ForeignKey("hosts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("outbox_id", sa.String(32), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("samples", sa.BigInteger(), nullable=False),
        sa.Column("first_collected_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_collected_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("host_id", "outbox_id", "first_seq", name="uq_host_gaps_outbox_first_seq"),
    )
    op.create_table(
        "fleet_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("checked_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("grace_until", storage.types.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("fleet_state")
    op.drop_table("host_gaps")
    op.drop_table("host_outboxes")
    with op.batch_alter_table("hosts") as batch:
        for name, _ in reversed(_HOST_COLUMNS):
            batch.drop_column(name)
