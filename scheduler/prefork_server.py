"""The pre-imported worker (a "zygote"): a process that has imported the monitor job once and forks a child
for each run, so a scheduled monitoring run does not pay for a fresh interpreter and SQLAlchemy's import.

Started by scheduler.prefork_client as `python -m scheduler.prefork_server FD`, FD being its end of a
SOCK_SEQPACKET socket pair. Each request on it is one JSON message {"module", "args", "cwd", "env"} carrying
three descriptors: a reply socket, the run's stdout file and its stderr file. The worker forks; the child makes
its own process group (so a timeout can end it and its children), takes the files as fds 1 and 2, the
request's environment and working directory, runs the module's `main(args)` and exits with its return code.
The reply socket gets the line `pid N`, and `exit CODE` once the child has been reaped (CODE negative for a
signal, as subprocess reports it). The worker exits when the scheduler's end of the pair closes; on Linux its
children get SIGTERM when it goes (parent-death signal), so nothing outlives a killed scheduler.

The worker connects to the database once before forking (the dialect is initialised and the run's statements
compiled), then drops the connection: children open their own, nothing is shared across a fork.
"""

from __future__ import annotations

import gc
import json
import os
import selectors
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from scheduler.runner import die_with_parent
from scripts.monitoring import system_monitor

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from config.settings import Settings
    from scripts.monitoring.monitor import StoredState

MAX_REQUEST_BYTES = 1 << 20
# The modules the worker can run, by name; their `main(argv) -> int` is what a child calls.
ENTRY_POINTS: dict[str, Callable[[list[str]], int]] = {"scripts.monitoring.system_monitor": system_monitor.main}


def warm_up() -> None:
    """Do once here what every run would otherwise do first: import what a run imports lazily, build the
    argument parser (its regular expressions), read the collectors once (psutil's process table, the ignore
    patterns) and connect to the configured database (its dialect initialised, the statements compiled:
    counters, disk history, incidents, silences read; a sample inserted and rolled back, so SQLAlchemy's
    statement cache on the engine, which the children inherit, holds the inserts too).
    Nothing is kept. Best effort: a run reports any problem itself."""
    from scripts.monitoring import json_output, monitor, nagios, report  # noqa: F401
    from scripts.monitoring.collectors import run_collectors

    system_monitor.build_parser().parse_args([])
    try:
        from config.settings import load_settings
        from storage.database import db
        from storage.incident_store import active_silence_patterns, load_incidents
        from storage.schema import SCHEMA_REVISION, current_revision

        settings = load_settings()
        run_collectors(settings)
        db.bind(settings.database_url, settings.database_busy_timeout_seconds)
        try:
            with db.engine.connect() as connection:
                current = current_revision(connection) == SCHEMA_REVISION
            if current:
                stored = monitor.read_stored(settings)  # the counters and disk history, as a run reads them
                with db.engine.connect() as connection:
                    now = datetime.now(timezone.utc)
                    load_incidents(connection, settings.hostname)
                    active_silence_patterns(connection, now)
                    connection.rollback()
                    _insert_and_roll_back(connection, settings, stored)
        finally:
            db.engine.dispose()  # no open connection may cross a fork
    except Exception as error:  # noqa: BLE001 - a bad .env or an unreachable database: the runs will say so
        print(f"prefork worker: warm-up incomplete ({type(error).__name__}: {error})", file=sys.stderr)


def _insert_and_roll_back(connection: Connection, settings: Settings, stored: StoredState) -> None:
    from scripts.monitoring.monitor import collect_sample
    from scripts.monitoring.persist import baseline_values, sample_rows
    from scripts.monitoring.snapshot import live_snapshot
    from storage.metrics_store import save_sample

    sample = collect_sample(settings, stored.previous or live_snapshot(settings))
    with connection.begin() as transaction:
        save_sample(connection, sample_rows(sample), [], baseline_values(sample))
        transaction.rollback()


class PreforkServer:
    def __init__(self, control: socket.socket):
        self.control = control
        self.replies: dict[int, socket.socket] = {}  # child pid -> its reply socket
        self.wakeup_read, self.wakeup_write = os.pipe()
        os.set_blocking(self.wakeup_write, False)
        os.set_blocking(self.wakeup_read, False)

    def serve(self) -> None:
        """Fork a child per request until the scheduler's end of the control socket closes."""
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the selector through the wakeup fd
        signal.set_wakeup_fd(self.wakeup_write)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the scheduler's to handle
        selector = selectors.DefaultSelector()
        selector.register(self.control, selectors.EVENT_READ)
        selector.register(self.wakeup_read, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select(timeout=5.0):
                if key.fileobj is self.control and not self._accept():
                    return
            self._reap()

    def _accept(self) -> bool:
        """Handle one request; False when the scheduler has gone."""
        try:
            message, fds, _, _ = socket.recv_fds(self.control, MAX_REQUEST_BYTES, 3)
        except InterruptedError:
            return True
        if not message:
            return False
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            return True
        reply = socket.socket(fileno=fds[0])
        try:
            request = json.loads(message)
            entry = ENTRY_POINTS[request["module"]]
        except (ValueError, KeyError, TypeError) as error:
            _send(reply, f"error bad request: {type(error).__name__}: {error}")
            reply.close()
            os.close(fds[1])
            os.close(fds[2])
            return True
        pid = os.fork()
        if pid == 0:
            self._child(request, entry, fds[1], fds[2])  # never returns
        try:
            os.setpgid(pid, pid)  # also done by the child; whichever runs first wins the race with a kill
        except OSError:
            pass
        os.close(fds[1])
        os.close(fds[2])
        self.replies[pid] = reply
        _send(reply, f"pid {pid}")
        return True

    def _reap(self) -> None:
        try:
            os.read(self.wakeup_read, 4096)
        except BlockingIOError:
            pass
        while self.replies:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            reply = self.replies.pop(pid, None)
            if reply is not None:
                _send(reply, f"exit {os.waitstatus_to_exitcode(status)}")
                reply.close()

    def _child(self, request: dict, entry: Callable[[list[str]], int], stdout_fd: int, stderr_fd: int) -> None:
        """In the forked child: become a job process like a fresh one would be, run, exit."""
        code = 1
        try:
            os.setpgid(0, 0)
            if sys.platform.startswith("linux"):
                die_with_parent()
            for number in (signal.SIGCHLD, signal.SIGTERM):
                signal.signal(number, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.set_wakeup_fd(-1)
            for sock in (self.control, *self.replies.values()):
                sock.close()
            os.close(self.wakeup_read)
            os.close(self.wakeup_write)
            devnull = os.open(os.devnull, os.O_RDONLY)
            for source, target in ((devnull, 0), (stdout_fd, 1), (stderr_fd, 2)):
                os.dup2(source, target)
                os.close(source)
            sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - lives as long as the child
            sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            time.tzset()  # the job's TZ, if it sets one
            sys.argv = [request["module"], *request["args"]]
            code = entry(list(request["args"]))
        except SystemExit as exit_request:
            code = 0 if exit_request.code is None else exit_request.code if isinstance(exit_request.code, int) else 1
        except BaseException:  # noqa: BLE001 - whatever happens, the child must not return into the server loop
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)


def _send(reply: socket.socket, line: str) -> None:
    try:
        reply.sendall(f"{line}\n".encode())
    except OSError:
        pass  # the scheduler gave up on this run; the child still runs to its end


def main(argv: list[str]) -> int:
    control = socket.socket(fileno=int(argv[0]))
    warm_up()
    gc.collect()
    gc.freeze()  # objects made so far are never collected: children do not copy their pages to mark them
    PreforkServer(control).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
