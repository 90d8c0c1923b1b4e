"""One validated, typed Settings object built from .env (python-dotenv) and the real environment.

Real environment variables win over the file. Every value is checked before anything runs, so a bad value
stops the program with one line (ConfigError) and nothing written.
"""

import logging
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from config import defaults
from config.agent_settings import AGENT_KEYS
from config.alert_settings import ALERT_KEYS, parse_alert_settings
from config.dashboard_settings import DASHBOARD_KEYS, DashboardSettings, parse_dashboard_settings
from config.env_file import read_env_file
from config.fields import ConfigError, parse_bool, parse_choice, parse_int, parse_list, parse_number, parse_subset
from config.fleet_settings import FLEET_KEYS, FleetSettings, parse_fleet_settings
from config.job_settings import JOB_KEYS, JobSettings, parse_job_settings
from config.notify_settings import NOTIFY_KEYS, NotifySettings, parse_notify_settings
from config.paths import DEFAULT_ENV_FILE, resolve_path
from config.retention_settings import RETENTION_KEYS, RetentionSettings, parse_retention_settings
from config.thresholds import normalize_mountpoint, parse_thresholds, threshold_keys
from config.unknown_keys import likely_key
from monitoring.collectors import COLLECTOR_NAMES
from monitoring.incidents import AlertSettings
from monitoring.levels import MetricThresholds

log = logging.getLogger("automation.config")
ENV_FILE_VARIABLE = "AUTOMATION_ENV_FILE"
DEFAULT_DATABASE_URL = "sqlite:///data/automation.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SUPPORTED_BACKENDS = ("sqlite", "postgresql", "mysql", "mariadb")
DATABASE_URL_HELP = (
    "a SQLAlchemy URL: sqlite:///data/automation.db, postgresql+psycopg://USER@HOST/DB or mysql+pymysql://USER@HOST/DB"
)
# Pseudo and image filesystems that hold no user data (node_exporter and Glances skip the same kinds).
DEFAULT_IGNORED_FSTYPES = (
    "tmpfs,devtmpfs,overlay,squashfs,proc,sysfs,cgroup,cgroup2,devpts,mqueue,autofs,debugfs,tracefs,"
    "securityfs,pstore,bpf,configfs,fusectl,hugetlbfs,nsfs,ramfs,rpc_pipefs,binfmt_misc,efivarfs,iso9660,udf"
)
DEFAULT_IGNORED_MOUNTS = "/proc/*,/sys/*,/dev/*,/run/*,/snap/*,/var/lib/docker/*,/var/lib/containers/*,/boot/efi"
DEFAULT_IGNORED_INTERFACES = "lo,lo[0-9]*,Loopback*"  # Linux lo, macOS lo0, Windows Loopback Pseudo-Interface

# Keys read here besides the thresholds; .env.example documents each one.
SETTING_KEYS = (
    "DATABASE_URL",
    "DATABASE_BUSY_TIMEOUT_SECONDS",
    "LOG_LEVEL",
    "LOG_FILE",
    "LOG_MAX_BYTES",
    "LOG_BACKUP_COUNT",
    "MONITOR_HOSTNAME",
    "MONITOR_TOP_PROCESSES",
    "MONITOR_DISABLED_COLLECTORS",
    "MONITOR_SYSTEM_DISK",
    "DISK_IGNORE_FSTYPES",
    "DISK_IGNORE_MOUNTS",
    "NETWORK_IGNORE_INTERFACES",
    "CONTAINER_ENGINE_SOCKET",
    "CONTAINER_RESTART_WINDOW",
    "SCHEDULER_TIMEZONE",
    "SCHEDULER_STOP_WAIT_SECONDS",
    "SCHEDULER_RETRY_BASE_SECONDS",
    "SCHEDULER_RETRY_MAX_SECONDS",
    "SCHEDULER_PREFORK",
    *ALERT_KEYS,
    *NOTIFY_KEYS,
    *DASHBOARD_KEYS,
    *FLEET_KEYS,
    *AGENT_KEYS,
    *RETENTION_KEYS,
    *JOB_KEYS,
)


class CollectorConfig(NamedTuple):
    """What a run of the collectors reads (monitoring.collectors.registry.MonitorSettings): the part of Settings
    an agent host needs, read without the rest (and its database driver)."""

    hostname: str
    top_processes: int
    disabled_collectors: frozenset[str]
    system_disk: str
    disk_ignore_fstypes: frozenset[str]
    disk_ignore_mounts: tuple[str, ...]
    network_ignore_interfaces: tuple[str, ...]
    container_engine_socket: str | None  # None: DOCKER_HOST, else the usual Docker and Podman sockets
    container_restart_window_seconds: float  # a container's restarts within it make a restart loop


class Settings(NamedTuple):
    """Every setting, typed and validated; read-only by convention (a NamedTuple: cheap to build at start-up)."""

    env_file: Path | None
    database_url: str
    database_busy_timeout_seconds: float
    log_level: str
    log_file: Path | None
    log_max_bytes: int
    log_backup_count: int
    hostname: str
    top_processes: int
    disabled_collectors: frozenset[str]
    system_disk: str
    disk_ignore_fstypes: frozenset[str]
    disk_ignore_mounts: tuple[str, ...]
    network_ignore_interfaces: tuple[str, ...]
    container_engine_socket: str | None  # None: DOCKER_HOST, else the usual Docker and Podman sockets
    container_restart_window_seconds: float  # a container's restarts within it make a restart loop
    scheduler_timezone: str | None  # IANA name; None: the system zone
    scheduler_stop_wait_seconds: float
    scheduler_retry_base_seconds: float
    scheduler_retry_max_seconds: float
    scheduler_prefork: bool  # monitoring runs forked from a pre-imported worker (POSIX)
    thresholds: dict[str, MetricThresholds]
    alerts: AlertSettings
    notify: NotifySettings
    dashboard: DashboardSettings
    fleet: FleetSettings
    retention: RetentionSettings
    jobs: JobSettings


def read_values(environ: Mapping[str, str] | None = None) -> tuple[Path | None, dict[str, str]]:
    """The .env file's values overlaid with the environment's, and the file they came from."""
    environ = os.environ if environ is None else environ
    explicit = environ.get(ENV_FILE_VARIABLE)
    env_file = resolve_path(explicit) if explicit else DEFAULT_ENV_FILE
    if explicit and not env_file.is_file():
        raise ConfigError(ENV_FILE_VARIABLE, explicit, "the path of an existing .env file")
    if not env_file.is_file():
        return None, dict(environ)
    file_values = read_env_file(env_file)
    _warn_of_misspelt_keys(env_file, file_values)
    return env_file, file_values | dict(environ)


def known_keys() -> frozenset[str]:
    """Every key the platform reads from .env."""
    return frozenset((*SETTING_KEYS, *threshold_keys(), ENV_FILE_VARIABLE))


def _warn_of_misspelt_keys(env_file: Path, file_values: Mapping[str, str]) -> None:
    """A misspelt key would leave its setting at the default without a word; a key close to none of them may be
    meant for something else and is left alone."""
    known = known_keys()
    for key in file_values:
        suggestion = likely_key(key, known)
        if suggestion is not None:
            log.warning("%s: %s is not a known setting; did you mean %s?", env_file, key, suggestion)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raises ConfigError naming the first bad key."""
    env_file, values = read_values(environ)

    def get(key: str, default: str) -> str:
        value = values.get(key)
        return default if value is None or value.strip() == "" else value

    log_file_raw = values.get("LOG_FILE", "logs/automation.log").strip()
    return Settings(
        env_file=env_file,
        database_url=resolve_database_url(get("DATABASE_URL", DEFAULT_DATABASE_URL)),
        database_busy_timeout_seconds=parse_number(
            "DATABASE_BUSY_TIMEOUT_SECONDS",
            get("DATABASE_BUSY_TIMEOUT_SECONDS", str(defaults.DATABASE_BUSY_TIMEOUT_SECONDS)),
            0,
            3600,
        ),
        log_level=parse_choice("LOG_LEVEL", get("LOG_LEVEL", "INFO"), LOG_LEVELS),
        log_file=None if log_file_raw.casefold() in {"", "off"} else resolve_path(log_file_raw),
        log_max_bytes=parse_int("LOG_MAX_BYTES", get("LOG_MAX_BYTES", str(10 * 1024 * 1024)), 0, 2**40),
        log_backup_count=parse_int("LOG_BACKUP_COUNT", get("LOG_BACKUP_COUNT", "5"), 0, 1000),
        **parse_collector_settings(values)._asdict(),
        scheduler_timezone=_time_zone(get("SCHEDULER_TIMEZONE", "")),
        scheduler_stop_wait_seconds=parse_number(
            "SCHEDULER_STOP_WAIT_SECONDS",
            get("SCHEDULER_STOP_WAIT_SECONDS", str(defaults.SCHEDULER_STOP_WAIT_SECONDS)),
            0,
            3600,
        ),
        scheduler_retry_base_seconds=parse_number(
            "SCHEDULER_RETRY_BASE_SECONDS",
            get("SCHEDULER_RETRY_BASE_SECONDS", str(defaults.SCHEDULER_RETRY_BASE_SECONDS)),
            0,
            86400,
        ),
        scheduler_retry_max_seconds=_retry_cap(
            get("SCHEDULER_RETRY_MAX_SECONDS", str(defaults.SCHEDULER_RETRY_MAX_SECONDS)),
            get("SCHEDULER_RETRY_BASE_SECONDS", str(defaults.SCHEDULER_RETRY_BASE_SECONDS)),
        ),
        scheduler_prefork=parse_bool("SCHEDULER_PREFORK", get("SCHEDULER_PREFORK", "true")),
        thresholds=parse_thresholds(values),
        alerts=parse_alert_settings(values),
        notify=parse_notify_settings(values),
        dashboard=parse_dashboard_settings(values),
        fleet=parse_fleet_settings(values),
        retention=parse_retention_settings(values),
        jobs=parse_job_settings(values),
    )


def parse_collector_settings(values: Mapping[str, str]) -> CollectorConfig:
    """The MONITOR_*, DISK_IGNORE_*, NETWORK_IGNORE_* and CONTAINER_* settings."""

    def get(key: str, default: str) -> str:
        value = values.get(key)
        return default if value is None or value.strip() == "" else value

    return CollectorConfig(
        hostname=_hostname(get("MONITOR_HOSTNAME", "")),
        top_processes=parse_int("MONITOR_TOP_PROCESSES", get("MONITOR_TOP_PROCESSES", "5"), 0, 100),
        disabled_collectors=parse_subset(
            "MONITOR_DISABLED_COLLECTORS", values.get("MONITOR_DISABLED_COLLECTORS", ""), COLLECTOR_NAMES
        ),
        system_disk=_system_disk(get("MONITOR_SYSTEM_DISK", "C:\\" if sys.platform == "win32" else "/")),
        disk_ignore_fstypes=frozenset(parse_list(values.get("DISK_IGNORE_FSTYPES", DEFAULT_IGNORED_FSTYPES))),
        disk_ignore_mounts=parse_list(values.get("DISK_IGNORE_MOUNTS", DEFAULT_IGNORED_MOUNTS)),
        network_ignore_interfaces=parse_list(values.get("NETWORK_IGNORE_INTERFACES", DEFAULT_IGNORED_INTERFACES)),
        container_engine_socket=_engine_socket(get("CONTAINER_ENGINE_SOCKET", "")),
        container_restart_window_seconds=parse_number(
            "CONTAINER_RESTART_WINDOW", get("CONTAINER_RESTART_WINDOW", "900"), 60, 7 * 86400
        ),
    )


def resolve_database_url(raw: str) -> str:
    """Validate DATABASE_URL and anchor a relative SQLite path at the project root."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise ConfigError("DATABASE_URL", raw, DATABASE_URL_HELP) from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise ConfigError("DATABASE_URL", raw, f"{DATABASE_URL_HELP} (backend one of {', '.join(SUPPORTED_BACKENDS)})")
    if backend == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            url = url.set(database=str(resolve_path(database)))
        return url.render_as_string(hide_password=False)
    try:
        url.get_dialect().import_dbapi()
    except (ImportError, NoSuchModuleError) as error:
        raise ConfigError("DATABASE_URL", raw, f"a URL whose driver is installed ({error})") from None
    return url.render_as_string(hide_password=False)


def _retry_cap(raw: str, base_raw: str) -> float:
    cap = parse_number("SCHEDULER_RETRY_MAX_SECONDS", raw, 0, 86400)
    if cap < float(base_raw):
        raise ConfigError(
            "SCHEDULER_RETRY_MAX_SECONDS", raw, f"a number not below SCHEDULER_RETRY_BASE_SECONDS ({float(base_raw):g})"
        )
    return cap


def _time_zone(raw: str) -> str | None:
    name = raw.strip()
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("SCHEDULER_TIMEZONE", raw, "an IANA time zone such as Europe/Berlin or UTC") from None
    return name


def _system_disk(raw: str) -> str:
    mountpoint = normalize_mountpoint(raw.strip())
    if mountpoint is None:
        raise ConfigError("MONITOR_SYSTEM_DISK", raw, "a mount point such as / or C:\\")
    return mountpoint


def _engine_socket(raw: str) -> str | None:
    """An absolute path of a unix socket, written as a path or as unix:///PATH (DOCKER_HOST's form)."""
    path = raw.strip().removeprefix("unix://")
    if not path:
        return None
    if not path.startswith("/"):
        raise ConfigError(
            "CONTAINER_ENGINE_SOCKET", raw, "the absolute path of the engine's unix socket, or unix:///PATH"
        )
    return path


def _hostname(raw: str) -> str:
    name = raw.strip() or socket.gethostname()
    if len(name) > 255:
        raise ConfigError("MONITOR_HOSTNAME", raw, "a host name of at most 255 characters")
    return name
