"""The schema, as SQLAlchemy Core tables: the one definition that the ORM models, the migrations' checks and
the monitor's fast write path share.

The metric columns of system_metrics and of the per-resource detail tables come from the metric catalogue
(monitoring.catalogue: each metric's column, value type and whether it is always present); the columns that
identify a sample or a resource are written here. A new metric's column appears here by itself, and needs a
migration (storage/migrations).

Core tables cost a few milliseconds to build; ORM mapping of the same columns costs tens, which a one-shot
monitor run started by cron should not pay. Columns ending in `_total` are cumulative counters as read; the
next sample of the same host computes its rates (`_per_second`) from them. GB columns are GiB (2**30 bytes),
MB columns MiB, as in the seed platform. Floats are double precision (MySQL's FLOAT is 4 bytes).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from monitoring.catalogue import ResourceKind, ValueType, machine_columns, stored_in
from storage.enums import ExecutionStatus, ExecutionTrigger, JobType
from storage.types import LongText, UTCDateTime, utc_now

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


# Ids are 64-bit on every database, as the API promises (up to 2**63 - 1); SQLite's INTEGER already is, and
# stays INTEGER there so that the id remains the rowid (BIGINT would not be). Foreign keys take their target's type.
ROW_ID = BigInteger().with_variant(Integer(), "sqlite")


def _enum(enum_class: type, by_value: bool = False) -> Enum:
    """A portable VARCHAR enum (no native ENUM type), so adding a member needs no ALTER TYPE. Stored by name
    ('MONITORING', as the seed's job_type) or by value ('success', 'os-cron': what people type in SQL)."""
    values = (lambda members: [member.value for member in members]) if by_value else None
    return Enum(enum_class, native_enum=False, length=32, validate_strings=True, values_callable=values)


def _doubles(*names: str) -> list[Column]:
    return [Column(name, Double) for name in names]


_COLUMN_TYPES = {
    ValueType.FLOAT: Double,
    ValueType.INTEGER: Integer,
    ValueType.BIG_INTEGER: BigInteger,
    ValueType.BOOLEAN: Boolean,
}


def _metric_columns(resource_kind: ResourceKind | None) -> list[Column]:
    """The catalogue's metric columns of system_metrics (None) or of the detail table of `resource_kind`."""
    if resource_kind is None:
        return [Column(column, _COLUMN_TYPES[metric.value_type]) for column, metric in machine_columns()]
    return [
        Column(metric.column, _COLUMN_TYPES[metric.value_type], nullable=not metric.required)
        for metric in stored_in(resource_kind)
    ]


def _detail(name: str, *columns: Column | Index) -> Table:
    """A per-sample detail table: rows die with their sample."""
    return Table(
        name,
        metadata,
        Column("id", ROW_ID, primary_key=True),
        Column("system_metric_id", ForeignKey("system_metrics.id", ondelete="CASCADE"), nullable=False, index=True),
        *columns,
    )


jobs = Table(
    "jobs",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("description", Text),
    Column("job_type", _enum(JobType), nullable=False, default=JobType.CUSTOM),
    Column("script_path", String(1024)),
    Column("script_args", Text, doc="JSON list of arguments"),
    Column("cron_expression", String(128), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("timeout_seconds", Integer, nullable=False, default=300),
    Column("max_retries", Integer, nullable=False, default=0),
    Column(
        "retry_timeouts",
        Boolean,
        nullable=False,
        default=False,
        server_default=false(),
        doc="whether a run that timed out is retried too (max_retries); failures always are",
    ),
    Column(
        "max_instances",
        Integer,
        nullable=False,
        default=1,
        server_default="1",
        doc="runs of this job allowed at once; a slot due while that many run is recorded as skipped",
    ),
    Column("timezone", String(64), doc="IANA zone of cron_expression; NULL: SCHEDULER_TIMEZONE"),
    Column(
        "catch_up",
        String(16),
        nullable=False,
        default="latest",
        server_default="latest",
        doc="slots missed while no scheduler ran: skip (record them), latest (run the newest once), all",
    ),
    Column(
        "catch_up_grace_seconds",
        Integer,
        nullable=False,
        default=3600,
        server_default="3600",
        doc="a missed slot older than this is only recorded, never run",
    ),
    Column("created_at", UTCDateTime, nullable=False, default=utc_now),
    Column("updated_at", UTCDateTime, nullable=False, default=utc_now, onupdate=utc_now),
)

job_executions = Table(
    "job_executions",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    Column("job_id", ForeignKey("jobs.id", ondelete="SET NULL"), index=True),
    Column("job_name", String(128), nullable=False, doc="kept when the job is deleted"),
    Column("status", _enum(ExecutionStatus, by_value=True), nullable=False, default=ExecutionStatus.PENDING),
    Column("trigger", _enum(ExecutionTrigger, by_value=True), nullable=False, default=ExecutionTrigger.SCHEDULE),
    Column("scheduled_for", UTCDateTime),
    Column("started_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("duration_seconds", Double),
    Column("exit_code", Integer),
    Column("stdout", Text),
    Column("stderr", Text),
    Column("error_message", Text),
    Column("retry_count", Integer, nullable=False, default=0),
    Column("hostname", String(255)),
    Column("platform", String(32)),
    Column("owner", String(64), doc="the scheduler instance that claimed the run"),
    Column("pid", Integer, doc="the process running it (a run outside the scheduler: jobs run, OS cron)"),
    Column("heartbeat_at", UTCDateTime, doc="refreshed while the run lives; a stale one means it died"),
    # One row per (job, slot), whichever scheduler inserts it first: exactly-once across schedulers.
    # Manual runs have no slot (NULL), and NULLs never collide.
    Index("uq_job_executions_job_id_scheduled_for", "job_id", "scheduled_for", unique=True),
    Index("ix_job_executions_status", "status"),  # runs waiting for a scheduler (pending), found once a second
)

scheduler_instances = Table(
    "scheduler_instances",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("hostname", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False, doc="a scheduler silent for long is gone"),
    Column("stopped_at", UTCDateTime),
)

system_metrics = Table(
    "system_metrics",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("hostname", String(255), nullable=False),
    Column("platform", String(32)),
    Column("boot_time", UTCDateTime),
    Column("disk_mountpoint", String(512), doc="the system disk of the disk_* columns"),
    *_metric_columns(None),
    Index("ix_system_metrics_hostname_timestamp", "hostname", "timestamp"),
    Index("ix_system_metrics_timestamp", "timestamp"),  # newest first across hosts (dashboard, seed queries)
)

system_metric_cpu_cores = _detail(
    "system_metric_cpu_cores",
    Column("core_index", Integer, nullable=False),
    *_metric_columns(ResourceKind.CORE),
)

system_metric_disks = _detail(
    "system_metric_disks",
    Column("mountpoint", String(512), nullable=False),
    Column("device", String(512)),
    Column("fstype", String(64)),
    Column("io_device", String(255), doc="the device's name in the I/O counters (dm-0)"),
    *_metric_columns(ResourceKind.MOUNT),
)

system_metric_networks = _detail(
    "system_metric_networks",
    Column("interface", String(255), nullable=False),
    *_metric_columns(ResourceKind.INTERFACE),
)

system_metric_gpus = _detail(
    "system_metric_gpus",
    Column("gpu_index", Integer, nullable=False),
    Column("name", String(255)),
    Column("uuid", String(128)),
    Column("error_message", Text, doc="fields NVML could not read"),
    *_metric_columns(ResourceKind.GPU),
)

system_metric_gpu_processes = _detail(
    "system_metric_gpu_processes",
    Column("gpu_index", Integer, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("process_name", String(255)),
    Column("used_memory_mib", Double),
)

system_metric_sensors = _detail(
    "system_metric_sensors",
    Column("chip", String(128), nullable=False),
    Column("label", String(128)),
    *_metric_columns(ResourceKind.SENSOR),
)

# One row per container the engine listed (running or not). Its metric columns are NULL where the container is not
# running or the figure could not be read; the `_total` columns are the raw counters the next sample's rates use.
system_metric_containers = _detail(
    "system_metric_containers",
    Column("container_id", String(128), nullable=False),
    Column("name", String(255), nullable=False),
    Column("image", String(512)),
    Column("engine", String(16), doc="docker or podman"),
    Column("state", String(32), nullable=False, doc="the engine's word: running, exited, restarting, paused ..."),
    Column("health", String(16), doc="healthy, unhealthy, starting; NULL without a health check"),
    Column("restart_count", Integer),
    Column("exit_code", Integer, doc="the last exit code of a container that is not running"),
    Column("oom_killed", Boolean, doc="the engine says the kernel killed it for memory"),
    Column("started_at", String(64), doc="the engine's start time, as it gives it"),
    Column("cpu_ns_total", BigInteger),
    Column("net_rx_bytes_total", BigInteger),
    Column("net_tx_bytes_total", BigInteger),
    Column("block_read_bytes_total", BigInteger),
    Column("block_write_bytes_total", BigInteger),
    *_metric_columns(ResourceKind.CONTAINER),
    Index("ix_system_metric_containers_name", "name"),
)

system_metric_processes = _detail(
    "system_metric_processes",
    Column("ranking", String(16), nullable=False, doc="'cpu' or 'memory': which top list"),
    Column("rank", Integer, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("name", String(255)),
    Column("username", String(255)),
    *_doubles("cpu_percent", "memory_percent"),
    Column("rss_bytes", BigInteger),
)

system_metric_collectors = _detail(
    "system_metric_collectors",
    Column("collector", String(32), nullable=False),
    Column("duration_seconds", Double, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("error_message", Text),
)

process_cpu_baselines = Table(
    "process_cpu_baselines",
    metadata,
    Column("hostname", String(255), primary_key=True),
    Column("taken_at", UTCDateTime, nullable=False),
    Column("counters_json", LongText, nullable=False, doc='{"pid": [create_time, cpu_seconds], ...}'),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    Column("title", String(255), nullable=False),
    Column("message", Text, nullable=False),
    Column("level", String(16), nullable=False, doc="INFO, WARNING, CRITICAL, ERROR"),
    Column("channel", String(64), nullable=False),
    Column("sent_at", UTCDateTime, nullable=False, default=utc_now),
    Column("success", Boolean, nullable=False, default=True),
    Column("error_message", Text),
    # indexed: deleting an old sample or run finds the notifications that name it (db prune, foreign keys)
    Column("job_execution_id", ForeignKey("job_executions.id", ondelete="SET NULL"), index=True),
    Column("system_metric_id", ForeignKey("system_metrics.id", ondelete="SET NULL"), index=True),
    Column("host", String(255)),
    Column("metric", String(64)),
    Column("resource", String(512)),
    *_doubles("value", "threshold"),
    Column("incident_id", ForeignKey("alert_incidents.id", ondelete="SET NULL"), index=True),
    Column("event", String(16), doc="firing, escalated, de-escalated, reminder, resolved, flapping or stable"),
    Column("silenced", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_notifications_channel_sent_at", "channel", "sent_at"),
    Index("ix_notifications_sent_at", "sent_at"),  # newest first across channels (dashboard)
)

alert_incidents = Table(
    "alert_incidents",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    Column("host", String(255), nullable=False),
    Column("metric", String(64), nullable=False),
    Column("resource", String(512), nullable=False, default="", doc="'' for a machine-wide metric"),
    Column("status", String(16), nullable=False, doc="pending, warning or critical while active; ok once over"),
    Column("peak_level", String(16), doc="the highest level reached: WARNING or CRITICAL"),
    Column("started_at", UTCDateTime, nullable=False, doc="the first sample of the breach"),
    Column("fired_at", UTCDateTime, doc="when it left pending (after ALERT_FOR)"),
    Column("resolved_at", UTCDateTime),
    Column("last_seen_at", UTCDateTime, nullable=False),
    *_doubles("threshold", "last_value", "min_value", "max_value", "sum_value"),
    Column("sample_count", Integer, nullable=False, default=0),
    Column("last_notified_at", UTCDateTime),
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", String(255)),
    Column("flapping", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_alert_incidents_host_metric", "host", "metric"),  # MySQL caps an index key at 3072 bytes
    Index("ix_alert_incidents_status", "status"),
)

alert_silences = Table(
    "alert_silences",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    Column("pattern", String(512), nullable=False, doc="a glob over metric, metric:resource or host:metric:resource"),
    Column("until", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False, default=utc_now),
    Column("reason", Text),
    Column("removed_at", UTCDateTime),
)

notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    Column("notification_id", ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("destination", String(512), nullable=False, doc="the destination URL with its secrets masked"),
    Column("destination_key", String(64), nullable=False, doc="SHA-256 of the full URL: finds it in NOTIFY_URLS"),
    Column("status", String(16), nullable=False, doc="pending, retrying, delivered or expired"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error_message", Text),
    Column("created_at", UTCDateTime, nullable=False, default=utc_now),
    Column("last_attempt_at", UTCDateTime),
    Column("next_attempt_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    Index("ix_notification_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
)

hosts = Table(
    "hosts",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    Column("name", String(255), nullable=False, unique=True, doc="the hostname its samples carry"),
    Column("key_hash", String(64), unique=True, doc="sha256 of its ingest key, hex; NULL once revoked"),
    Column("key_created_at", UTCDateTime, doc="when the key was made or last rotated"),
    Column("fingerprint", String(128), doc="the machine the key was first used from; NULL until then"),
    Column("created_at", UTCDateTime, nullable=False, default=utc_now),
    Column("last_seen_at", UTCDateTime, doc="when the hub last took a push from it (the hub's clock)"),
    Column("last_collected_at", UTCDateTime, doc="its newest sample's collection time (the agent's clock)"),
    Column("agent_version", String(200)),
    Column("source", String(32), doc="what pushes: agent, coredotcloud or hicloud"),
    Column("interval_seconds", Double, doc="how often it samples, as its agent says"),
    Column("clock_skew_seconds", Double, doc="the agent's clock minus the hub's, at the last push"),
    Column("maintenance_since", UTCDateTime, doc="in maintenance since (no silent-host alerts); NULL: not"),
)

host_outboxes = Table(
    "host_outboxes",
    metadata,
    Column("host_id", ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True),
    Column("outbox_id", String(32), primary_key=True, doc="the agent's outbox: its seqs count from 1"),
    Column("last_seq", BigInteger, nullable=False, doc="every sample up to this seq is stored: a replay skips it"),
    Column("updated_at", UTCDateTime, nullable=False),
)

host_gaps = Table(
    "host_gaps",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    Column("host_id", ForeignKey("hosts.id", ondelete="CASCADE"), nullable=False),
    Column("outbox_id", String(32), nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("samples", BigInteger, nullable=False, doc="how many samples the agent dropped"),
    Column("first_collected_at", UTCDateTime, nullable=False),
    Column("last_collected_at", UTCDateTime, nullable=False),
    Column("reason", String(255), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("host_id", "outbox_id", "first_seq", name="uq_host_gaps_outbox_first_seq"),
)

fleet_state = Table(
    "fleet_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False, doc="always 1: one row, locked by a check"),
    Column("checked_at", UTCDateTime, doc="the last silent-host check, by any hub"),
    Column("grace_until", UTCDateTime, doc="after the hubs were down: no host counts as silent before this"),
)
