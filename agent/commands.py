"""`main.py agent run|start|stop|status`.

Exit codes: 0 done (status: running), 1 failed (start: already running or the agent exited at once; stop: still
running after the wait), 2 bad configuration, 3 status: not running (as LSB init scripts answer).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

from agent.cli_arguments import agent_parser
from agent.pid_file import AlreadyRunning, running_pid
from agent.state_file import read_state
from config.agent_settings import AgentConfig, load_agent_config
from config.fields import ConfigError
from config.paths import PROJECT_ROOT, private_folder

START_WAIT_SECONDS = 15.0
STOP_WAIT_SECONDS = 15.0
NOT_RUNNING = 3
MAIN = PROJECT_ROOT / "main.py"


def run_agent_command(argv: list[str]) -> int:
    args = agent_parser().parse_args(argv)
    config = _config()
    if config is None:
        return 2
    action = args.agent_command
    if action == "status":
        return _status(config)
    if action == "stop":
        return _stop(config)
    target = _target(config)
    if target is None:
        return 2
    if action == "start":
        return _start(config)
    return _run(config, *target)


def _config() -> AgentConfig | None:
    try:
        return load_agent_config()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return None


def _target(config: AgentConfig) -> tuple[str, str] | None:
    """The hub's URL and the host key, or None once the missing one is named."""
    if config.agent.hub_url is None:
        print(
            "error: AGENT_HUB_URL is not set; set it in .env to the hub's address, e.g. https://hub.example:8000",
            file=sys.stderr,
        )
        return None
    if config.agent.host_key is None:
        print(
            "error: AGENT_HOST_KEY is not set; run `python main.py hosts add NAME` on the hub and set the key it "
            "prints as AGENT_HOST_KEY in .env (or in a chmod 600 file named by AGENT_HOST_KEY_FILE)",
            file=sys.stderr,
        )
        return None
    return config.agent.hub_url, config.agent.host_key.reveal()


def _run(config: AgentConfig, hub_url: str, host_key: str) -> int:
    from agent.runner import run_agent
    from config.logging_setup import DATE_FORMAT, LOG_FORMAT, SecretsFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, DATE_FORMAT))
    handler.addFilter(SecretsFilter([host_key]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.log_level)
    try:
        return run_agent(config, hub_url, host_key)
    except AlreadyRunning as error:
        print(f"error: {error}; `python main.py agent stop` first", file=sys.stderr)
        return 1


def _start(config: AgentConfig) -> int:
    """`agent run` in its own session, detached from the terminal, its output appended to AGENT_LOG_FILE."""
    settings = config.agent
    pid = running_pid(settings.pid_file)
    if pid is not None:
        print(f"error: the agent is already running (pid {pid})", file=sys.stderr)
        return 1
    private_folder(settings.log_file.parent)
    log_fd = os.open(settings.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    detach: dict[str, object] = (
        {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS}  # type: ignore[attr-defined,unused-ignore]
        if sys.platform == "win32"
        else {"start_new_session": True}
    )
    try:
        child = subprocess.Popen(
            [sys.executable, str(MAIN), "agent", "run"],
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            close_fds=True,
            cwd=PROJECT_ROOT,
            **detach,  # type: ignore[call-overload]
        )
    finally:
        os.close(log_fd)
    deadline = time.monotonic() + START_WAIT_SECONDS
    while time.monotonic() < deadline:
        if running_pid(settings.pid_file) == child.pid:
            print(f"agent started (pid {child.pid}); its log: {settings.log_file}")
            return 0
        code = child.poll()
        if code is not None:
            print(f"error: the agent exited with code {code}: {_last_line(settings.log_file)}", file=sys.stderr)
            return 1
        time.sleep(0.1)
    print(f"error: the agent did not start within {START_WAIT_SECONDS:g} s; see {settings.log_file}", file=sys.stderr)
    return 1


def _stop(config: AgentConfig) -> int:
    pid = running_pid(config.agent.pid_file)
    if pid is None:
        print("the agent is not running")
        return 0
    try:
        if sys.platform == "win32":
            psutil.Process(pid).terminate()
        else:
            os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, psutil.NoSuchProcess):
        print("the agent is not running")
        return 0
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while time.monotonic() < deadline:
        if running_pid(config.agent.pid_file) != pid:
            print(f"agent stopped (pid {pid})")
            return 0
        time.sleep(0.1)
    print(f"error: the agent (pid {pid}) did not exit within {STOP_WAIT_SECONDS:g} s of SIGTERM", file=sys.stderr)
    return 1


def _status(config: AgentConfig) -> int:
    settings = config.agent
    pid = running_pid(settings.pid_file)
    state = read_state(settings.state_file)
    if pid is None:
        print("agent: not running")
    else:
        print(f"agent: running (pid {pid}, since {_when(_started_at(pid, state))})")
    if state:
        backlog = state.get("backlog") or {}
        print(f"hub: {state.get('hub_url') or '-'}, every {state.get('interval_seconds', '-')} s")
        print(f"last successful push: {_when(state.get('last_push_at'))}")
        print(f"last error: {state.get('last_error') or 'none since the last successful push'}")
        oldest = backlog.get("oldest_collected_at")
        print(
            f"backlog: {backlog.get('samples', 0)} sample(s), {backlog.get('bytes', 0)} bytes"
            + (f", oldest collected {_when(oldest)}" if oldest else "")
            + f"; {backlog.get('gaps', 0)} gap(s) to report"
        )
    return 0 if pid is not None else NOT_RUNNING


def _started_at(pid: int, state: dict[str, object]) -> float | None:
    if state.get("pid") == pid and isinstance(state.get("started_at"), (int, float)):
        return float(state["started_at"])  # type: ignore[arg-type]
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _when(unix_seconds: object) -> str:
    if not isinstance(unix_seconds, (int, float)):
        return "never"
    moment = datetime.fromtimestamp(unix_seconds, timezone.utc)
    ago = max(0, round(time.time() - unix_seconds))
    return f"{moment.isoformat(timespec='seconds')} ({ago} s ago)"


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return f"see {path}"
    return lines[-1] if lines else f"see {path}"
