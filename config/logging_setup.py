"""Logging to stderr at LOG_LEVEL and to LOG_FILE with size-based rotation, in the seed's line format.

Every handler carries a SecretsFilter: whatever logs (our code, Apprise or SQLAlchemy at DEBUG), the configured
secrets never reach stderr or the file. The log file, its rotations and a folder made for them are the
owner's only (0600, 0700).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler

from config.fields import ConfigError
from config.paths import OWNER_ONLY_FILE_MODE, private_folder
from config.settings import Settings
from config.url_privacy import SECRET_MIN_LENGTH, secret_parts

LOG_FORMAT = "%(asctime)s | %(levelname)s | %(message)s"
# `log.error(..., extra=FILE_ONLY)`: for a record the caller already showed the user in its own words.
FILE_ONLY = {"file_only": True}
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def configure_logging(settings: Settings, quiet: bool = False) -> None:
    """Install the handlers once per process; `quiet` keeps stderr to warnings and worse."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    level = logging.getLevelName(settings.log_level)
    root.setLevel(level)
    formatter = logging.Formatter(LOG_FORMAT, DATE_FORMAT)
    secrets = SecretsFilter(known_secrets(settings))

    console = logging.StreamHandler(sys.stderr)
    console.setLevel(max(level, logging.WARNING) if quiet else level)
    console.setFormatter(formatter)
    console.addFilter(lambda record: not getattr(record, "file_only", False))
    console.addFilter(secrets)
    root.addHandler(console)

    if settings.log_file is not None:
        file_handler = _file_handler(settings, formatter)
        file_handler.addFilter(secrets)
        root.addHandler(file_handler)


def known_secrets(settings: Settings) -> list[str]:
    """The configured secrets: every hidden part of each notification URL (the SMTP password and Slack tokens
    among them), the API token and the database password."""
    from sqlalchemy.engine import make_url

    found = [part for destination in settings.notify.destinations for part in secret_parts(destination.url)]
    found += [settings.dashboard.token or "", make_url(settings.database_url).password or ""]
    return found


# A fleet host's ingest key (fleet.host_keys: "ahk_" and token_urlsafe(32)), wherever it appears: a HiCloud agent
# sends it in its URL, so it can reach a log line with the path or a client's error; it is kept to "ahk_***".
HOST_KEY_PATTERN = r"ahk_[A-Za-z0-9_\-]{8,}"
HOST_KEY_MASK = "ahk_***"


class SecretsFilter(logging.Filter):
    """Replaces each secret by *** (a host key by ahk_***) in a record's message, exception and stack text
    before any handler formats it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        unique = sorted({str(secret) for secret in secrets if len(str(secret)) >= SECRET_MIN_LENGTH}, key=len)
        alternatives = [HOST_KEY_PATTERN, *(re.escape(secret) for secret in reversed(unique))]
        self.pattern = re.compile("|".join(f"({alternative})" for alternative in alternatives))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: the handler reports it when it formats
            return True
        if self.pattern.search(message):
            record.msg, record.args = self.masked(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.masked(record.exc_text)
        if record.stack_info:
            record.stack_info = self.masked(record.stack_info)
        return True

    def masked(self, text: str) -> str:
        return self.pattern.sub(lambda found: HOST_KEY_MASK if found.group(1) else "***", text)


def _file_handler(settings: Settings, formatter: logging.Formatter) -> RotatingFileHandler:
    """The rotating LOG_FILE handler; a path that cannot be written is a configuration error, found here
    rather than as a traceback on every log line."""
    path = settings.log_file
    assert path is not None
    try:
        private_folder(path.parent)
        with open(path, "a", encoding="utf-8", opener=owner_only):
            pass
    except OSError as error:
        raise ConfigError("LOG_FILE", str(path), f"a file that can be written ({error.strerror or error})") from None
    handler = PrivateRotatingFileHandler(
        path, maxBytes=settings.log_max_bytes, backupCount=settings.log_backup_count, encoding="utf-8"
    )
    handler.setFormatter(formatter)
    return handler


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose files (the first, and each new one after a rollover) are created 0600."""

    def _open(self) -> TextIOWrapper:
        return open(self.baseFilename, "a", encoding=self.encoding, errors=self.errors, opener=owner_only)


def owner_only(path: str, flags: int) -> int:
    """An `opener` for open(): a file it creates is readable and writable by its owner only."""
    return os.open(path, flags, OWNER_ONLY_FILE_MODE)
