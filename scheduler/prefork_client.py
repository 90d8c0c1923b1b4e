"""The scheduler's side of the pre-imported worker (scheduler.prefork_server): starts it, asks it for a child
per monitoring run, and hands the runner a handle that behaves like subprocess.Popen (pid, poll, wait, kill),
so timeouts, cancellation and output capture work as for any job.

POSIX only (fork and descriptor passing); elsewhere `PreforkWorker.available()` is False and runs start as
fresh processes. A worker that fails to start, dies or answers nonsense is replaced on a later run; the run at
hand starts as a fresh process, so a broken worker costs time, never a run.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO

from config.paths import PROJECT_ROOT

START_TIMEOUT_SECONDS = 30.0  # the worker's imports and warm-up, on a loaded machine
log = logging.getLogger("automation.scheduler")


class ForkedProcess:
    """A child of the worker, seen from the scheduler: its exit status arrives on the reply socket."""

    def __init__(self, pid: int, reply: socket.socket, pending: bytes):
        self.pid = pid
        self.returncode: int | None = None
        self._reply = reply
        self._buffer = pending

    def poll(self) -> int | None:
        if self.returncode is None:
            self._read_exit(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and not self._read_exit(timeout):
            raise subprocess.TimeoutExpired(f"pre-forked child {self.pid}", timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _read_exit(self, timeout: float | None) -> bool:
        """Read the `exit CODE` line; a worker that died first leaves the child ended by its parent-death
        signal, reported as SIGTERM."""
        self._reply.settimeout(timeout)
        try:
            while b"\n" not in self._buffer:
                chunk = self._reply.recv(256)
                if not chunk:
                    self._finish(-signal.SIGTERM)
                    return True
                self._buffer += chunk
        except (TimeoutError, BlockingIOError):
            return False
        line = self._buffer.split(b"\n", 1)[0].decode()
        self._finish(int(line.split()[1]) if line.startswith("exit ") else -signal.SIGTERM)
        return True

    def _finish(self, code: int) -> None:
        self.returncode = code
        self._reply.close()


class PreforkWorker:
    """One pre-imported worker process per scheduler, started on first use (or by `start`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._control: socket.socket | None = None

    @staticmethod
    def available() -> bool:
        return hasattr(os, "fork") and hasattr(socket, "send_fds") and hasattr(socket, "SOCK_SEQPACKET")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        with self._lock:
            self._ensure_started()

    def spawn(
        self, module: str, args: Sequence[str], cwd: str, env: Mapping[str, str], stdout: IO[bytes], stderr: IO[bytes]
    ) -> ForkedProcess | None:
        """A child running `module`'s main(args), or None (the caller starts a fresh process instead)."""
        request = json.dumps({"module": module, "args": list(args), "cwd": cwd, "env": dict(env)}).encode()
        ours, theirs = socket.socketpair()
        try:
            with self._lock:
                control = self._ensure_started()
                socket.send_fds(control, [request], [theirs.fileno(), stdout.fileno(), stderr.fileno()])
            theirs.close()
            return _await_pid(ours)
        except (OSError, ValueError) as error:
            log.warning("pre-forked worker unusable (%s); starting this run as a new process", error)
            ours.close()
            theirs.close()
            self._discard()
            return None

    def close(self) -> None:
        """Closing our end of the control socket ends the worker."""
        with self._lock:
            process, control = self._process, self._control
            self._process = self._control = None
        if control is not None:
            control.close()
        if process is not None:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _ensure_started(self) -> socket.socket:
        if self._control is not None and self._process is not None and self._process.poll() is None:
            return self._control
        self._discard_locked()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "scheduler.prefork_server", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                cwd=str(PROJECT_ROOT),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        self._control = ours
        log.debug("pre-forked worker started (pid %d)", self._process.pid)
        return ours

    def _discard(self) -> None:
        with self._lock:
            self._discard_locked()

    def _discard_locked(self) -> None:
        if self._control is not None:
            self._control.close()
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = self._control = None


def _await_pid(reply: socket.socket) -> ForkedProcess:
    """The worker's first answer: `pid N` (or `error ...`)."""
    buffer = b""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while b"\n" not in buffer:
        reply.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = reply.recv(256)
        if not chunk:
            raise ConnectionError("the worker closed the connection")
        buffer += chunk
    line, rest = buffer.split(b"\n", 1)
    words = line.decode().split()
    if len(words) != 2 or words[0] != "pid" or not words[1].isdigit():
        raise ValueError(f"the worker answered {line.decode()!r}")
    return ForkedProcess(int(words[1]), reply, rest)
