"""alert incidents, silences and deliveries

Alert state lives in the database so the incident lifecycle is the same whether the monitor runs in the
scheduler, from OS cron or by hand: alert_incidents (one row per breach), alert_silences, and
notification_deliveries (one row per notification and destination, with its outcome). notifications gains
the incident it belongs to, the event (firing, resolved ...) and whether it was silenced.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("resource", sa.String(length=512), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("peak_level", sa.String(length=16), nullable=True),
        sa.Column("started_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("fired_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("last_seen_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=True),
        sa.Column("last_value", sa.Double(), nullable=True),
        sa.Column("min_value", sa.Double(), nullable=True),
        sa.Column("max_value", sa.Double(), nullable=True),
        sa.Column("sum_value", sa.Double(), nullable=True),
        sa.Column("sample_count", sa.Integer(), nullable=False),
        sa.Column("last_notified_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=255), nullable=True),
        sa.Column("flapping", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_incidents")),
    )
    op.create_index("ix_alert_incidents_host_metric", "alert_incidents", ["host", "metric"])
    op.create_index("ix_alert_incidents_status", "alert_incidents", ["status"])
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pattern", sa.String(length=512), nullable=False),
        sa.Column("until", storage.types.UTCDateTime(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("removed_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_silences")),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=512), nullable=False),
        sa.Column("destination_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_attempt_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("next_attempt_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_deliveries_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
    )
    op.create_index("ix_notification_deliveries_notification_id", "notification_deliveries", ["notification_id"])
    op.create_index(
        "ix_notification_deliveries_status_next_attempt_at", "notification_deliveries", ["status", "next_attempt_at"]
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("event", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("silenced", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index("ix_notifications_incident_id", ["incident_id"])
        batch_op.create_foreign_key(
            "fk_notifications_incident_id_alert_incidents",
            "alert_incidents",
            ["incident_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint("fk_notifications_incident_id_alert_incidents", type_="foreignkey")
        batch_op.drop_index("ix_notifications_incident_id")
        batch_op.drop_column("silenced")
        batch_op.drop_column("event")
        batch_op.drop_column("incident_id")
    op.drop_index("ix_notification_deliveries_status_next_attempt_at", table_name="notification_deliveries")
    op.drop_index("ix_notification_deliveries_notification_id", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_table("alert_silences")
    op.drop_index("ix_alert_incidents_status", table_name="alert_incidents")
    op.drop_index("ix_alert_incidents_host_metric", table_name="alert_incidents")
    op.drop_table("alert_incidents")
