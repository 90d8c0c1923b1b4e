"""Settings of the fleet agent (`main.py agent ...`): where the hub is, the host's key, how often to sample, and
the outbox's bounds. See .env.example's "Fleet agent" section.

Read without load_settings(): an agent host has no database and no database driver, so nothing here (nor in the
collectors' settings it reads too) may import SQLAlchemy. A bad value is the usual one-line ConfigError.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from config.fields import ConfigError, parse_choice, parse_int, parse_number
from config.paths import resolve_path

if TYPE_CHECKING:
    from config.settings import CollectorConfig

AGENT_KEYS = (
    "AGENT_HUB_URL",
    "AGENT_HOST_KEY",
    "AGENT_HOST_KEY_FILE",
    "AGENT_INTERVAL",
    "AGENT_OUTBOX",
    "AGENT_OUTBOX_MAX_AGE",
    "AGENT_OUTBOX_MAX_BYTES",
    "AGENT_CA_FILE",
    "AGENT_BATCH_SIZE",
    "AGENT_RETRY_MAX_SECONDS",
    "AGENT_LOG_FILE",
)
DEFAULT_OUTBOX_MAX_BYTES = 256 * 1024 * 1024  # about a week of 30 s samples; the age bound (24 h) comes first
MAX_BATCH_SIZE = 5000  # monitoring.wire.MAX_SAMPLES_PER_BATCH: the hub refuses more in one push
HUB_URL_HELP = "the hub's address, http(s)://HOST[:PORT] (e.g. https://hub.example:8000)"


class HostKey:
    """The host's ingest key: shown as *** by repr() and str(), so no log line or traceback carries it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "HostKey('***')"

    __str__ = __repr__


class AgentSettings(NamedTuple):
    hub_url: str | None  # without a trailing slash; None: not configured (`agent run` says which key to set)
    host_key: HostKey | None
    interval_seconds: float
    outbox_path: Path
    outbox_max_age_seconds: float
    outbox_max_bytes: int
    ca_file: Path | None  # None: the system's trusted CAs
    batch_size: int  # samples per push
    retry_max_seconds: float  # the longest wait between tries at a hub that does not take pushes
    log_file: Path  # where `agent start` sends the agent's output (`agent run` logs to stderr)

    @property
    def pid_file(self) -> Path:
        """data/agent.pid by default: next to the outbox, so each outbox has one agent."""
        return self.outbox_path.parent / "agent.pid"

    @property
    def state_file(self) -> Path:
        return self.outbox_path.parent / "agent-state.json"


class AgentConfig(NamedTuple):
    """Everything the agent process reads: its own settings, the collectors' and the log level."""

    agent: AgentSettings
    collectors: CollectorConfig
    log_level: str
    env_file: Path | None


def load_agent_config(environ: Mapping[str, str] | None = None) -> AgentConfig:
    """Read and validate the agent's settings; raises ConfigError naming the first bad key."""
    from config.settings import LOG_LEVELS, parse_collector_settings, read_values  # it imports AGENT_KEYS from here

    env_file, values = read_values(environ)
    level = values.get("LOG_LEVEL", "").strip() or "INFO"
    return AgentConfig(
        agent=parse_agent_settings(values),
        collectors=parse_collector_settings(values),
        log_level=parse_choice("LOG_LEVEL", level, LOG_LEVELS),
        env_file=env_file,
    )


def parse_agent_settings(values: Mapping[str, str]) -> AgentSettings:
    def get(key: str, default: str = "") -> str:
        value = values.get(key)
        return default if value is None or value.strip() == "" else value.strip()

    ca_file = get("AGENT_CA_FILE")
    if ca_file and not resolve_path(ca_file).is_file():
        raise ConfigError("AGENT_CA_FILE", ca_file, "the path of a PEM file of CA certificates")
    return AgentSettings(
        hub_url=_hub_url(get("AGENT_HUB_URL")) if get("AGENT_HUB_URL") else None,
        host_key=_host_key(get("AGENT_HOST_KEY"), get("AGENT_HOST_KEY_FILE")),
        interval_seconds=parse_number("AGENT_INTERVAL", get("AGENT_INTERVAL", "30"), 1, 86400),
        outbox_path=resolve_path(get("AGENT_OUTBOX", "data/agent-outbox.db")),
        outbox_max_age_seconds=parse_number(
            "AGENT_OUTBOX_MAX_AGE", get("AGENT_OUTBOX_MAX_AGE", "86400"), 60, 366 * 86400
        ),
        outbox_max_bytes=parse_int(
            "AGENT_OUTBOX_MAX_BYTES", get("AGENT_OUTBOX_MAX_BYTES", str(DEFAULT_OUTBOX_MAX_BYTES)), 1024 * 1024, 2**40
        ),
        ca_file=resolve_path(ca_file) if ca_file else None,
        batch_size=parse_int("AGENT_BATCH_SIZE", get("AGENT_BATCH_SIZE", "500"), 1, MAX_BATCH_SIZE),
        retry_max_seconds=parse_number("AGENT_RETRY_MAX_SECONDS", get("AGENT_RETRY_MAX_SECONDS", "300"), 1, 3600),
        log_file=resolve_path(get("AGENT_LOG_FILE", "logs/agent.log")),
    )


def _hub_url(raw: str) -> str:
    """http(s)://HOST[:PORT][/PREFIX] with no credentials, query or fragment; returned without a trailing slash."""
    try:
        parts = urlsplit(raw)
        _ = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        raise ConfigError("AGENT_HUB_URL", raw, HUB_URL_HELP) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError("AGENT_HUB_URL", raw, HUB_URL_HELP)
    if parts.username is not None or parts.password is not None:
        raise ConfigError("AGENT_HUB_URL", raw, f"{HUB_URL_HELP} without a user or password")
    return raw.rstrip("/")


def _host_key(raw: str, file_raw: str) -> HostKey | None:
    """AGENT_HOST_KEY, or the first line of AGENT_HOST_KEY_FILE, which only its owner may read."""
    if raw and file_raw:
        raise ConfigError("AGENT_HOST_KEY_FILE", file_raw, "to be empty when AGENT_HOST_KEY is set (set one of them)")
    if raw:
        return HostKey(raw)
    if not file_raw:
        return None
    path = resolve_path(file_raw)
    try:
        if sys.platform != "win32" and os.stat(path).st_mode & 0o077:
            raise ConfigError("AGENT_HOST_KEY_FILE", file_raw, "a file only its owner can read (chmod 600)")
        key = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError("AGENT_HOST_KEY_FILE", file_raw, f"a readable file ({error.strerror or error})") from None
    if not key or "\n" in key:
        raise ConfigError("AGENT_HOST_KEY_FILE", file_raw, "a file holding the key from `main.py hosts add NAME` alone")
    return HostKey(key)
