"""Helpers for benchmarks: run commands alternately and report ratios against a baseline from the same run."""

from __future__ import annotations

import compileall
import http.client
import math
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def compile_project() -> None:
    """Byte-compile every package of the project, as Python does on a first run by itself; where
    PYTHONDONTWRITEBYTECODE is set (as on these machines) every run would otherwise recompile them from source."""
    for package in sorted(path for path in ROOT.iterdir() if (path / "__init__.py").is_file()):
        compileall.compile_dir(package, quiet=1)


@dataclass
class Runs:
    wall_seconds: list[float] = field(default_factory=list)
    peak_rss_mib: list[float] = field(default_factory=list)

    def median_wall(self) -> float:
        return statistics.median(self.wall_seconds)

    def max_rss(self) -> float:
        return max(self.peak_rss_mib)


def run_measured(
    command: Sequence[str], env: dict[str, str] | None = None, cwd: str | None = None
) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MiB) of one child process, from os.wait4's rusage."""
    with tempfile.TemporaryFile() as stderr:  # a file, not a pipe: a chatty child cannot block on a full pipe
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            stderr.seek(0)
            raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024.0  # Linux reports KiB (the benchmarks are Linux-only)


def alternate(
    commands: dict[str, Sequence[str]], rounds: int, env: dict[str, str] | None = None, cwd: str | None = None
) -> dict[str, Runs]:
    """Run each command once per round, in turn, so machine noise hits all of them alike."""
    results = {name: Runs() for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            wall, rss = run_measured(command, env=env, cwd=cwd)
            results[name].wall_seconds.append(wall)
            results[name].peak_rss_mib.append(rss)
    return results


def scheduler_database(workdir: Path, name: str, jobs: list[tuple[str, str, str]]) -> tuple[Path, dict[str, str]]:
    """A fresh SQLite database in `workdir` holding only `jobs` (name, script_path, cron expression) as enabled
    CUSTOM jobs, and the environment that points main.py at it. Returns (database, environment)."""
    database, env_file = workdir / name, workdir / ".env"
    env_file.write_text(f"DATABASE_URL=sqlite:///{database}\nLOG_FILE=off\nLOG_LEVEL=WARNING\nSCHEDULER_TIMEZONE=UTC\n")
    env = {**os.environ, "AUTOMATION_ENV_FILE": str(env_file)}
    subprocess.run([sys.executable, str(ROOT / "main.py"), "db", "init"], env=env, check=True, capture_output=True)
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("UPDATE jobs SET enabled = 0")
        connection.executemany(
            "INSERT INTO jobs (name, job_type, script_path, cron_expression, enabled, timeout_seconds, max_retries, "
            "max_instances, created_at, updated_at) VALUES (?, 'CUSTOM', ?, ?, 1, 60, 0, 1, '2026-01-01 00:00:00', "
            "'2026-01-01 00:00:00')",
            jobs,
        )
    connection.close()
    return database, env


def dashboard_database(workdir: Path, database: Path) -> tuple[dict[str, str], int, bool]:
    """A .env in `workdir` serving `database` on a free port, the schema made: (environment, port, whether the
    database was new, so the caller fills it; a kept one is reused)."""
    port = free_port()
    env_file = workdir / ".env"
    env_file.write_text(f"DATABASE_URL=sqlite:///{database}\nLOG_FILE=off\nLOG_LEVEL=WARNING\nAPI_PORT={port}\n")
    env = {**os.environ, "AUTOMATION_ENV_FILE": str(env_file)}
    fresh = not database.exists()
    subprocess.run([sys.executable, str(ROOT / "main.py"), "db", "init"], env=env, check=True, capture_output=True)
    return env, port, fresh


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server the benchmark starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    """Return once `url` answers; fail if the server process exits first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def percentile(values: list[float], percent: float) -> float:
    """Nearest rank: the smallest value with at least `percent` % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(percent / 100.0 * len(ordered)) - 1, 0)]


def fill_samples(database: Path, per_host: int, hosts: list[str], end: datetime) -> float:
    """`per_host` per-minute samples of each of `hosts` ending at `end`, every charted column filled, written in
    chunks through storage.bulk_samples into an initialised database; returns the seconds it took."""
    from sqlalchemy import create_engine

    from monitoring.catalogue import CHARTED_COLUMNS
    from storage.bulk_samples import add_samples

    start = end - timedelta(minutes=per_host - 1)
    total, chunk = per_host * len(hosts), 50_000
    engine = create_engine(f"sqlite:///{database}")
    started = time.perf_counter()
    with engine.begin() as connection:
        for first in range(0, total, chunk):
            add_samples(
                connection,
                [
                    {
                        "timestamp": start + timedelta(minutes=index // len(hosts)),
                        "hostname": hosts[index % len(hosts)],
                        "platform": "linux",
                        **{
                            column: 50 + 40 * math.sin(index / 720 + offset)
                            for offset, column in enumerate(CHARTED_COLUMNS)
                        },
                    }
                    for index in range(first, min(first + chunk, total))
                ],
            )
    engine.dispose()
    return time.perf_counter() - started


def store_sample(database: Path, hostname: str, moment: datetime) -> None:
    """One more sample, committed at once with sqlite3: what a monitor run in another process adds."""
    connection = sqlite3.connect(database)
    with connection:
        connection.execute(
            "INSERT INTO system_metrics (timestamp, hostname, platform) VALUES (?, ?, 'linux')",
            (moment.strftime("%Y-%m-%d %H:%M:%S.%f"), hostname),
        )
    connection.close()


def timed_get(client: http.client.HTTPConnection, path: str) -> tuple[float, bytes]:
    """Milliseconds to a complete 200 answer on a kept-alive connection, and its body."""
    started = time.perf_counter()
    client.request("GET", path)
    response = client.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
    return elapsed, body
