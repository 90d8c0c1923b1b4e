"""Fleet hosts: one row per host allowed to push samples, with the hash of its ingest key

An agent authenticates with a key made by `main.py hosts add NAME` and shown once; only its sha256 is stored, so
the table gives no key away. Rotating replaces the hash, revoking clears it. The machine fingerprint is bound on
the key's first use, so a cloned machine pushing with the same key can be told apart.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 12:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hosts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=True),
        sa.Column("key_created_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("fingerprint", sa.String(128), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_hosts_name"),
        sa.UniqueConstraint("key_hash", name="uq_hosts_key_hash"),
    )


def downgrade() -> None:
    op.drop_table("hosts")
