"""Running one job's process: its own process group, a timeout that ends the whole group (grandchildren too),
and output captured to files so a chatty job can neither block on a full pipe nor fill memory.

The outcome keeps the first and last OUTPUT_CAP_BYTES of stdout and stderr with a marker in between.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, Protocol

from storage.enums import ExecutionStatus

OUTPUT_CAP_BYTES = 32 * 1024
DEFAULT_GRACE_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.2  # how often a run that can be cancelled checks for it


@dataclass(eq=False)
class RunOutcome:
    status: ExecutionStatus
    started_at: datetime
    completed_at: datetime
    exit_code: int | None
    stdout: str
    stderr: str
    error_message: str | None = None

    @property
    def duration_seconds(self) -> float:
        return (self.completed_at - self.started_at).total_seconds()


def cap_output(data: bytes, cap_bytes: int = OUTPUT_CAP_BYTES) -> str:
    """All of it when short; else the first and last `cap_bytes` with the size of the cut in between."""
    if len(data) <= 2 * cap_bytes:
        return data.decode(errors="replace")
    omitted = len(data) - 2 * cap_bytes
    return (
        data[:cap_bytes].decode(errors="replace")
        + f"\n[... {omitted} bytes omitted ...]\n"
        + data[-cap_bytes:].decode(errors="replace")
    )


class ProcessHandle(Protocol):
    """What the runner needs of a started process: subprocess.Popen, or a pre-forked worker's child."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


# Starts a job process writing to the given stdout and stderr files; None means "could not, start it afresh".
Starter = Callable[[IO[bytes], IO[bytes]], "ProcessHandle | None"]


def run_process(
    argv: Sequence[str],
    cwd: str,
    env: Mapping[str, str],
    timeout_seconds: float | None,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    cancel: threading.Event | None = None,
    starter: Starter | None = None,
    on_start: Callable[[], None] | None = None,
) -> RunOutcome:
    """Run the job to completion, timeout or `cancel` (a stopping scheduler); never raises for the job's own
    failures. `starter` (a pre-forked worker) starts it when it can; otherwise `argv` runs as a new process.
    `on_start` is called once the process is running (to record that)."""
    started_at = datetime.now(timezone.utc)
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        try:
            process = starter(stdout, stderr) if starter is not None else None
            if process is None:
                process = start_job_process(argv, cwd, env, stdout, stderr)
        except OSError as error:
            return RunOutcome(
                ExecutionStatus.FAILED,
                started_at,
                datetime.now(timezone.utc),
                None,
                "",
                "",
                f"could not start {argv[0]}: {error.strerror or error}",
            )
        if on_start is not None:
            on_start()
        status, error_message = _wait(process, timeout_seconds, grace_seconds, cancel)
        if status is ExecutionStatus.SUCCESS and process.returncode != 0:
            status, error_message = ExecutionStatus.FAILED, f"exited with code {process.returncode}"
        completed_at = datetime.now(timezone.utc)
        return RunOutcome(
            status, started_at, completed_at, process.returncode, _read(stdout), _read(stderr), error_message
        )


def _wait(
    process: ProcessHandle, timeout_seconds: float | None, grace_seconds: float, cancel: threading.Event | None
) -> tuple[ExecutionStatus, str | None]:
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    while True:
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        step = (
            remaining if cancel is None else min(remaining if remaining is not None else _POLL_SECONDS, _POLL_SECONDS)
        )
        try:
            process.wait(timeout=step)
            return ExecutionStatus.SUCCESS, None
        except subprocess.TimeoutExpired:
            pass
        if cancel is not None and cancel.is_set():
            _end_group(process, grace_seconds)
            return ExecutionStatus.CANCELLED, "cancelled: the scheduler stopped"
        if deadline is not None and time.monotonic() >= deadline:
            _end_group(process, grace_seconds)
            return ExecutionStatus.TIMEOUT, f"timed out after {timeout_seconds:g} s"


def _read(output: object) -> str:
    output.seek(0)  # type: ignore[attr-defined]
    return cap_output(output.read())  # type: ignore[attr-defined]


def start_job_process(
    argv: Sequence[str], cwd: str, env: Mapping[str, str], stdout: IO[bytes] | int, stderr: IO[bytes] | int
) -> subprocess.Popen:
    """A new process group (a new session on POSIX), and on Linux a signal to the job if the scheduler dies:
    set by util-linux's `setpriv --pdeathsig` where it has the option, so Python starts the job with vfork
    (about 0.2 ms); a preexec_fn instead forces a full fork of the scheduler (3 ms and more, serial while
    many slots are due at once)."""
    options: dict[str, object] = {}
    if sys.platform == "win32":
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    else:
        options["start_new_session"] = True
    command = list(argv)
    if sys.platform.startswith("linux"):
        setpriv = _setpriv_with_pdeathsig()
        if setpriv is not None:
            _require_executable(command[0], cwd, env)  # as Popen would: a missing program fails to start
            command = [setpriv, "--pdeathsig", "TERM", "--", *command]
        else:
            options["preexec_fn"] = die_with_parent
    return subprocess.Popen(
        command, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, **options
    )  # type: ignore[call-overload]


@functools.cache
def _setpriv_with_pdeathsig() -> str | None:
    """util-linux's setpriv if it knows --pdeathsig (2.33 and later), else None."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    check = subprocess.run([setpriv, "--pdeathsig", "TERM", "--", "true"], capture_output=True)
    return setpriv if check.returncode == 0 else None


def _require_executable(program: str, cwd: str, env: Mapping[str, str]) -> None:
    """Raise the OSError that starting `program` would raise, when it is missing or not executable."""
    if os.sep in program:
        path = program if os.path.isabs(program) else os.path.join(cwd, program)
        if not os.path.exists(path):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)
        if os.path.isdir(path) or not os.access(path, os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), program)
    elif shutil.which(program, path=env.get("PATH", os.defpath)) is None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)


def die_with_parent() -> None:
    """Linux: this process gets SIGTERM when the thread that started it ends (its parent dies)."""
    import ctypes

    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _end_group(process: ProcessHandle, grace_seconds: float) -> None:
    """SIGTERM to the whole group, SIGKILL to what is left after the grace period."""
    if sys.platform == "win32":
        process.kill()
        process.wait()
        return
    _signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None and not _group_alive(process.pid):
            return
        time.sleep(0.05)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(group: int, signal_number: int) -> None:
    try:
        os.killpg(group, signal_number)
    except ProcessLookupError:
        pass


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
