"""Logging to stderr at LOG_LEVEL and to LOG_FILE with size-based rotation, in the seed's line format."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler

from config.fields import ConfigError
from config.settings import Settings

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

    console = logging.StreamHandler(sys.stderr)
    console.setLevel(max(level, logging.WARNING) if quiet else level)
    console.setFormatter(formatter)
    console.addFilter(lambda record: not getattr(record, "file_only", False))
    root.addHandler(console)

    if settings.log_file is not None:
        root.addHandler(_file_handler(settings, formatter))


def _file_handler(settings: Settings, formatter: logging.Formatter) -> RotatingFileHandler:
    """The rotating LOG_FILE handler; a path that cannot be written is a configuration error, found here
    rather than as a traceback on every log line."""
    path = settings.log_file
    assert path is not None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as error:
        raise ConfigError("LOG_FILE", str(path), f"a file that can be written ({error.strerror or error})") from None
    handler = RotatingFileHandler(
        path, maxBytes=settings.log_max_bytes, backupCount=settings.log_backup_count, encoding="utf-8"
    )
    handler.setFormatter(formatter)
    return handler
