"""Shared fixtures: a private .env and SQLite database per test, and running the real script as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# The container engines are a plugin of the test modules that use them (pytest_plugins), which also import its
# names: its asserts are rewritten once registered here, before any of them imports it.
pytest.register_assert_rewrite("tests.container_engines")

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "monitoring" / "system_monitor.py"
MAIN = ROOT / "main.py"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Settings a developer may have exported must not leak into tests.
_SETTING_PREFIXES = (
    "DATABASE_",
    "LOG_",
    "MONITOR_",
    "DISK_",
    "NETWORK_",
    "CPU_",
    "MEMORY_",
    "SWAP_",
    "LOAD_",
    "GPU_",
    "AUTOMATION_",
    "API_",
    "DASHBOARD_",
    "ALLOWED_ORIGINS",
    "CONTAINER_",
    "DOCKER_HOST",
)


def clean_environ() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith(_SETTING_PREFIXES)}


class Workspace:
    """A temp dir holding a .env, the database and the log file of one test."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env_file = path / ".env"
        self.database = path / "data" / "automation.db"
        self.log_file = path / "logs" / "automation.log"
        self.settings = {"DATABASE_URL": f"sqlite:///{self.database}", "LOG_FILE": str(self.log_file)}
        self.write_env()

    def write_env(self, **extra: str) -> None:
        self.settings.update(extra)
        self.env_file.write_text("".join(f"{key}={value}\n" for key, value in self.settings.items()))

    def environ(self, **overrides: str) -> dict[str, str]:
        return {**clean_environ(), "AUTOMATION_ENV_FILE": str(self.env_file), **overrides}

    def run(
        self, *args: str, script: Path = SCRIPT, cwd: Path | None = None, timeout: float = 60, **overrides: str
    ) -> subprocess.CompletedProcess[str]:
        """Run the monitor script (or main.py) as a real process, by default from an unrelated directory."""
        return subprocess.run(
            [sys.executable, str(script), *args],
            cwd=cwd or self.path,
            env=self.environ(**overrides),
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


@pytest.fixture
def settings_for(monkeypatch: pytest.MonkeyPatch, workspace: Workspace) -> Callable[..., object]:
    """Settings loaded in-process from the workspace .env plus the given overrides."""
    from config.settings import load_settings

    def load(**overrides: str) -> object:
        return load_settings(workspace.environ(**overrides))

    return load


@pytest.fixture(autouse=True)
def _fresh_database_binding() -> None:
    """Each test binds storage.db itself; never inherit another test's engine."""
    yield
    from storage.database import db

    db.dispose()
