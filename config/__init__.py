"""Settings of the platform: .env loading, validation and logging setup."""

from config.fields import ConfigError
from config.paths import PROJECT_ROOT
from config.settings import Settings, load_settings

__all__ = ["ConfigError", "PROJECT_ROOT", "Settings", "load_settings"]
