"""Long commands show progress on a terminal: `db prune` a bar per table, `jobs run` how long the run has been
going. On stderr only, and only when stderr is a terminal (a pty here): piped, as cron and the scheduler run
them, they print exactly what they printed before."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, insert
from sqlalchemy.pool import NullPool

from storage import tables
from tests.conftest import MAIN, Workspace

OLD_SAMPLES = 5000  # three batches of storage.retention.BATCH_ROWS


def on_terminal(workspace: Workspace, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """main.py with its stderr on a pseudo-terminal; (the finished process, what the terminal received)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty has 0 columns
    process = subprocess.Popen(
        [sys.executable, str(MAIN), *args],
        env=workspace.environ(),
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
    )
    os.close(terminal)
    received = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the process closed its end
            break
        if not chunk:
            break
        received += chunk
    os.close(controller)
    stdout, _ = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, ""), received.decode()


def piped(workspace: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MAIN), *args], env=workspace.environ(), capture_output=True, text=True, timeout=120
    )


def seed_old_samples(workspace: Workspace) -> None:
    assert piped(workspace, "db", "init").returncode == 0
    old = datetime.now(timezone.utc) - timedelta(days=400)
    engine = create_engine(f"sqlite:///{workspace.database}", poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(
            insert(tables.system_metrics),
            [{"timestamp": old + timedelta(minutes=index), "hostname": "web1"} for index in range(OLD_SAMPLES)],
        )
    engine.dispose()


@pytest.mark.slow
def test_db_prune_shows_a_bar_per_table_on_a_terminal_and_nothing_when_piped(workspace: Workspace) -> None:
    seed_old_samples(workspace)
    done, terminal = on_terminal(workspace, "db", "prune")
    assert done.returncode == 0, terminal
    assert f"system_metrics: {OLD_SAMPLES} row(s) older than" in done.stdout
    assert "system_metrics:" in terminal and f"0/{OLD_SAMPLES} [" in terminal and " rows" in terminal, terminal

    seed_old_samples(workspace)
    quiet = piped(workspace, "db", "prune")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert _without_cutoffs(quiet.stdout) == _without_cutoffs(done.stdout)


def _without_cutoffs(stdout: str) -> str:
    """The lines printed, less their cutoff times (they move with the clock between two runs)."""
    return re.sub(r"older than \S+", "older than ...", stdout)


@pytest.mark.slow
def test_jobs_run_shows_how_long_the_run_has_been_going_on_a_terminal_only(workspace: Workspace) -> None:
    script = workspace.path / "sleeper.py"
    script.write_text("import time\ntime.sleep(2.5)\nprint('rested')\n")
    assert piped(workspace, "jobs", "add", "sleeper", "--cron", "0 3 * * *", "--script", str(script)).returncode == 0

    done, terminal = on_terminal(workspace, "jobs", "run", "sleeper")
    assert done.returncode == 0, terminal
    assert done.stdout.startswith("sleeper: success in ")
    assert "running sleeper: 00:00 (timeout 300 s)" in terminal, terminal
    assert "running sleeper: 00:01" in terminal or "running sleeper: 00:02" in terminal, terminal  # it ticked

    quiet = piped(workspace, "jobs", "run", "sleeper")
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout.startswith("sleeper: success in ")
