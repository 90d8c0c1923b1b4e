"""Helpers for benchmarks: run commands alternately and report ratios against a baseline from the same run."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Runs:
    wall_seconds: list[float] = field(default_factory=list)
    peak_rss_mib: list[float] = field(default_factory=list)

    def median_wall(self) -> float:
        return statistics.median(self.wall_seconds)

    def max_rss(self) -> float:
        return max(self.peak_rss_mib)


def run_measured(command: Sequence[str], env: dict[str, str] | None = None,
                 cwd: str | None = None) -> tuple[float, float]:
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


def alternate(commands: dict[str, Sequence[str]], rounds: int, env: dict[str, str] | None = None,
              cwd: str | None = None) -> dict[str, Runs]:
    """Run each command once per round, in turn, so machine noise hits all of them alike."""
    results = {name: Runs() for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            wall, rss = run_measured(command, env=env, cwd=cwd)
            results[name].wall_seconds.append(wall)
            results[name].peak_rss_mib.append(rss)
    return results
