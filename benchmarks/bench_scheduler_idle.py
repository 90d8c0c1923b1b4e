"""The scheduler's own CPU use with 1,000 enabled jobs of which none is due in the next minute.

Starts `python main.py run --no-dashboard` (the scheduler alone) and `python main.py run` (the scheduler with
the dashboard beside it, on a free port), each against its own temporary SQLite database holding 1,000 yearly
jobs, lets them settle, then reads their CPU time (user + system, from /proc through psutil) over the same
window and prints it as a share of one core. Target: under 1 % for the scheduler. The baseline in the same run
is an idle `python -c "import time; time.sleep(N)"` measured the same way, to show the machine's noise floor.

    python benchmarks/bench_scheduler_idle.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from common import free_port, scheduler_database

ROOT = Path(__file__).resolve().parent.parent
TARGET_PERCENT = 1.0
JOBS = 1000


def cpu_seconds(process: subprocess.Popen) -> float:
    return sum(psutil.Process(process.pid).cpu_times()[:2])


def start(workdir: Path, arguments: list[str], **settings: str) -> subprocess.Popen:
    workdir.mkdir()
    _, env = scheduler_database(workdir, "idle.db", [(f"job-{index}", "x.py", "0 0 1 1 *") for index in range(JOBS)])
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "run", *arguments],
        env={**env, **settings},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        processes = {
            "scheduler alone": start(Path(workdir) / "alone", ["--no-dashboard"]),
            "scheduler + dashboard": start(Path(workdir) / "dashboard", [], API_PORT=str(free_port())),
            "baseline (a sleeping Python process)": subprocess.Popen(
                [sys.executable, "-c", f"import time; time.sleep({args.seconds + 60})"]
            ),
        }
        try:
            time.sleep(5)  # start-up: imports, loading and parsing 1,000 cron expressions
            for name, process in processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {process.returncode}")
            before = {name: cpu_seconds(process) for name, process in processes.items()}
            time.sleep(args.seconds)
            percent = {
                name: 100.0 * (cpu_seconds(process) - before[name]) / args.seconds
                for name, process in processes.items()
            }
        finally:
            for process in processes.values():
                process.terminate()
                process.wait(timeout=60)
    print(f"jobs: {JOBS} enabled, none due within the window; window {args.seconds:g} s")
    for name, value in percent.items():
        print(f"{name}: {value:.3f} % of one core")
    met = percent["scheduler alone"] < TARGET_PERCENT
    print(f"target (scheduler alone < {TARGET_PERCENT} %): " + ("met" if met else "MISSED"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
