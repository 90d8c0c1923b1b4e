"""Where the project lives, so relative paths in .env mean the same from cron's $HOME as from the checkout."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ENV_FILE = PROJECT_ROOT / ".env"


def resolve_path(raw: str) -> Path:
    """An absolute path stays; a relative one (or ~) is taken from the project root, not the working directory."""
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()
