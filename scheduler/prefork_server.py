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

from pipeline import command
from scheduler.runner import die_with_parent

MAX_REQUEST_BYTES = 1 << 20
# The modules the worker can run, by name; their `main(argv) -> int` is what a child calls.
ENTRY_POINTS: dict[str, Callable[[list[str]], int]] = {"pipeline.command": command.main}


def warm_up() -> None:
    """The monitor's own warm-up (pipeline.command.warm_up), best effort: with a bad .env or an unreachable
    database the runs will say what is wrong themselves."""
    try:
        command.warm_up()
    except Exception as error:  # noqa: BLE001
        print(f"prefork worker: warm-up incomplete ({type(error).__name__}: {error})", file=sys.stderr)


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
            os.environ |= request["env"]
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
