"""Where the project lives, so relative paths in .env mean the same from cron's $HOME as from the checkout."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ENV_FILE = PROJECT_ROOT / ".env"


def resolve_path(raw: str) -> Path:
    """An absolute path stays; a relative one (or ~) is taken from the project root, not the working directory."""
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


OWNER_ONLY_FILE_MODE = 0o600  # the database, its -wal/-shm files and the logs: they hold hostnames and messages
OWNER_ONLY_FOLDER_MODE = 0o700
PROJECT_STATE_FOLDERS = (PROJECT_ROOT / "data", PROJECT_ROOT / "logs")


def private_folder(path: Path) -> None:
    """Make `path` (0700 for what is created). The checkout's own data/ and logs/ come from git with the umask's
    mode, so they are tightened to 0700 too; any other folder that already exists (/var/log, /tmp) is left as
    its owner set it."""
    path.mkdir(mode=OWNER_ONLY_FOLDER_MODE, parents=True, exist_ok=True)
    if path.resolve() in PROJECT_STATE_FOLDERS:
        path.chmod(OWNER_ONLY_FOLDER_MODE)
