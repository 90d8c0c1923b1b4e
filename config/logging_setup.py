"""Logging to stderr at LOG_LEVEL and to LOG_FILE with size-based rotation, in the seed's line format."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler

from config.settings import Settings

LOG_FORMAT = "%(asctime)s | %(levelname)s | %(message)s"
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
    root.addHandler(console)

    if settings.log_file is not None:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingFileHandler(
            settings.log_file, maxBytes=settings.log_max_bytes, backupCount=settings.log_backup_count,
            encoding="utf-8", delay=True,
        )
        file_handler.setFormatter(formatter)
        root.addHandler(file_handler)
