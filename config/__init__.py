"""Settings of the platform: .env loading, validation and logging setup."""

from config.fields import ConfigError
from config.paths import PROJECT_ROOT
from config.settings import Settings, load_settings

__all__ = ["PROJECT_ROOT", "ConfigError", "Settings", "load_settings"]
