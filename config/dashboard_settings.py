"""Settings of the dashboard server: where it listens, the API token, CORS. See .env.example's "Dashboard" section.

The token guards every write (and every read with API_READ_AUTH=true); it is masked wherever settings are shown.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from config.fields import ConfigError, parse_bool, parse_int, parse_list
from config.paths import resolve_path

DASHBOARD_KEYS = (
    "DASHBOARD_ENABLED",
    "API_HOST",
    "API_PORT",
    "API_TOKEN",
    "API_READ_AUTH",
    "ALLOWED_ORIGINS",
    "API_MAX_BODY_BYTES",
    "API_TLS_CERT_FILE",
    "API_TLS_KEY_FILE",
)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # a job's settings or an acknowledgement take a few KiB
MAX_BODY_BYTES_RANGE = (1024, 1024 * 1024 * 1024)
MIN_TOKEN_LENGTH = 16
TOKEN_HELP = (
    f"at least {MIN_TOKEN_LENGTH} characters without spaces, e.g. the output of "
    f'python -c "import secrets; print(secrets.token_urlsafe(32))"'
)
_ORIGIN = r"^https?://[A-Za-z0-9.\-\[\]:]+(:\d{1,5})?$"
_HOST = r"^[A-Za-z0-9.\-:]+$"


class DashboardSettings(NamedTuple):
    enabled: bool  # `main.py run` serves the dashboard beside the scheduler
    host: str
    port: int
    token: str | None  # None: every write is refused
    read_auth: bool  # reads need the token too (health excepted)
    allowed_origins: tuple[str, ...]  # CORS; empty: no cross-origin access
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # a longer request body is a 413
    tls_cert_file: Path | None = None  # with tls_key_file: HTTPS (a PEM certificate chain)
    tls_key_file: Path | None = None

    def __repr__(self) -> str:  # settings get printed and logged: never show the token
        return (
            f"DashboardSettings(enabled={self.enabled}, host={self.host!r}, port={self.port}, "
            f"token={'***' if self.token else None}, read_auth={self.read_auth}, "
            f"allowed_origins={self.allowed_origins!r}, max_body_bytes={self.max_body_bytes}, "
            f"tls_cert_file={self.tls_cert_file}, tls_key_file={self.tls_key_file})"
        )

    @property
    def loopback_only(self) -> bool:
        """Whether API_HOST is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_dashboard_settings(values: Mapping[str, str]) -> DashboardSettings:
    def get(key: str, default: str) -> str:
        value = values.get(key)
        return default if value is None or value.strip() == "" else value.strip()

    token = get("API_TOKEN", "") or None
    if token is not None and (len(token) < MIN_TOKEN_LENGTH or re.search(r"\s", token)):
        raise ConfigError("API_TOKEN", token, TOKEN_HELP)
    read_auth = parse_bool("API_READ_AUTH", get("API_READ_AUTH", "false"))
    if read_auth and token is None:
        raise ConfigError("API_READ_AUTH", values.get("API_READ_AUTH", ""), "false unless API_TOKEN is set")
    host = get("API_HOST", DEFAULT_HOST)
    if not re.match(_HOST, host):
        raise ConfigError("API_HOST", host, "an address to listen on such as 127.0.0.1, 0.0.0.0 or ::1")
    origins_raw = values.get("ALLOWED_ORIGINS", "")
    origins = tuple(origin.rstrip("/") for origin in parse_list(origins_raw))
    for origin in origins:
        if not re.match(_ORIGIN, origin):
            raise ConfigError(
                "ALLOWED_ORIGINS",
                origins_raw,
                "comma-separated origins such as https://grafana.example.com,http://localhost:3000",
            )
    return DashboardSettings(
        enabled=parse_bool("DASHBOARD_ENABLED", get("DASHBOARD_ENABLED", "true")),
        host=host,
        port=parse_int("API_PORT", get("API_PORT", str(DEFAULT_PORT)), 1, 65535),
        token=token,
        read_auth=read_auth,
        allowed_origins=origins,
        max_body_bytes=parse_int(
            "API_MAX_BODY_BYTES", get("API_MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES)), *MAX_BODY_BYTES_RANGE
        ),
        **_tls_files(get("API_TLS_CERT_FILE", ""), get("API_TLS_KEY_FILE", "")),
    )


def _tls_files(cert_raw: str, key_raw: str) -> dict[str, Path | None]:
    """Both files or neither; each must be a readable file (the server would otherwise fail at its first
    connection, not at start)."""
    if bool(cert_raw) != bool(key_raw):
        missing, given = (
            ("API_TLS_KEY_FILE", "API_TLS_CERT_FILE") if cert_raw else ("API_TLS_CERT_FILE", "API_TLS_KEY_FILE")
        )
        raise ConfigError(missing, "", f"the path of a PEM file: {given} is set, and HTTPS needs both")
    files: dict[str, Path | None] = {"tls_cert_file": None, "tls_key_file": None}
    for key, raw, field in (
        ("API_TLS_CERT_FILE", cert_raw, "tls_cert_file"),
        ("API_TLS_KEY_FILE", key_raw, "tls_key_file"),
    ):
        if raw:
            path = resolve_path(raw)
            if not path.is_file() or not os.access(path, os.R_OK):
                raise ConfigError(key, raw, "the path of a readable PEM file")
            files[field] = path
    if files["tls_cert_file"] is not None:
        _check_key_pair(cert_raw, files["tls_cert_file"], files["tls_key_file"])
    return files


def _check_key_pair(cert_raw: str, cert_file: Path, key_file: Path | None) -> None:
    """Load the pair as the server will, so a wrong file stops the start with one line, not the first client."""
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError) as error:
        raise ConfigError(
            "API_TLS_CERT_FILE",
            cert_raw,
            f"a PEM certificate whose private key is in API_TLS_KEY_FILE (loading the pair said: {error})",
        ) from None
