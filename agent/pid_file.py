"""The running agent's PID file (next to its outbox: data/agent.pid by default, owner-only): `agent start`
refuses to start a second agent on the same outbox, and `stop` and `status` find the one running.

On POSIX the running agent holds an exclusive flock() on the file for its whole life, so a file left by a
killed agent (kill -9, a power cut) is recognised as stale at once, whatever pid it names. Elsewhere the pid
is checked for a live process.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import psutil

from config.paths import OWNER_ONLY_FILE_MODE, private_folder

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


class AlreadyRunning(Exception):
    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        super().__init__(f"the agent is already running (pid {pid})")


class PidFile:
    """Held by the running agent: acquire() at start, release() at exit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        private_folder(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, OWNER_ONLY_FILE_MODE)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise AlreadyRunning(_read_pid(self.path)) from None
            else:
                pid = _read_pid(self.path)
                if pid is not None and pid != os.getpid() and psutil.pid_exists(pid):
                    raise AlreadyRunning(pid)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None


def running_pid(path: Path) -> int | None:
    """The pid of the agent holding `path`, or None when none does (no file, or a stale one)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _read_pid(path)
            return None  # nobody holds it: stale
    finally:
        os.close(fd)
    pid = _read_pid(path)
    return pid if pid is not None and psutil.pid_exists(pid) else None


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None
