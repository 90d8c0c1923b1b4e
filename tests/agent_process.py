"""The fleet agent as a real process for tests: `main.py agent ...` under an import guard that makes importing
the hub's stack (SQLAlchemy, FastAPI, the storage package...) an ImportError, so every test that runs an agent
also proves the agent runs on a host without them.

PYTEST_DONT_REWRITE: the asserts here carry their own messages.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.conftest import MAIN, clean_environ

# What an agent host does not have (or the agent must not load): the hub's stack and the packages above config.
FORBIDDEN = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "apprise",
    "pydantic",
    "storage",
    "pipeline",
    "alerts",
    "scheduler",
    "fleet",
    "dashboard",
    "tqdm",
    "croniter",
    "orjson",
    "prometheus_client",
)
GUARD = f"""
import runpy, sys
FORBIDDEN = {FORBIDDEN!r}
class Guard:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in FORBIDDEN:
            raise ImportError(f"the agent imported {{name}}")
        return None
sys.meta_path.insert(0, Guard())
sys.argv = [{str(MAIN)!r}, *sys.argv[1:]]
runpy.run_path({str(MAIN)!r}, run_name="__main__")
"""


def agent_environ(tmp: Path, **settings: str) -> dict[str, str]:
    """An environment whose .env (tmp/agent.env) holds `settings`, the outbox and log under `tmp`."""
    env_file = tmp / "agent.env"
    values = {"AGENT_OUTBOX": str(tmp / "agent" / "outbox.db"), "AGENT_LOG_FILE": str(tmp / "agent.log"), **settings}
    env_file.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return {**clean_environ(), "AUTOMATION_ENV_FILE": str(env_file), "PYTHONUNBUFFERED": "1"}


def agent_command(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`main.py agent ARGS` under the import guard, to its end."""
    return subprocess.run(
        [sys.executable, "-c", GUARD, "agent", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def start_agent(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`main.py agent run` under the import guard, its output in `log`."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-c", GUARD, "agent", "run"], env=env, stdout=output, stderr=subprocess.STDOUT
        )


def stop_agent(process: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM; the agent must exit 0 promptly."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"the agent did not exit within 15 s of SIGTERM: {log.read_text()}") from None
    assert code == 0, f"the agent exited {code}: {log.read_text()}"


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60, log: Path | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s" + (f"\n{log.read_text()}" if log else ""))


def state(tmp: Path) -> dict[str, Any]:
    try:
        return json.loads((tmp / "agent" / "agent-state.json").read_text())
    except (OSError, ValueError):
        return {}


def outbox_counts(tmp: Path) -> tuple[int, int]:
    """(the last sequence number the outbox gave, the samples still waiting); (0, 0) until the agent has made
    its outbox. Opened read-only, so a look taken before the agent starts never creates the file itself."""
    outbox = tmp / "agent" / "outbox.db"
    if not outbox.exists():
        return 0, 0
    with closing(sqlite3.connect(f"{outbox.as_uri()}?mode=ro", uri=True, timeout=30)) as connection:
        try:
            last = connection.execute("SELECT seq FROM sqlite_sequence WHERE name = 'samples'").fetchone()
            waiting = connection.execute("SELECT count(*) FROM samples").fetchone()[0]
        except sqlite3.OperationalError as error:
            if "no such table" not in str(error):
                raise
            return 0, 0  # the file exists, its schema is being made
    return (last[0] if last else 0), waiting
