"""The scheduler's own CPU use with 1,000 enabled jobs of which none is due in the next minute.

Starts `python main.py run` against a temporary SQLite database holding 1,000 yearly jobs, lets it settle,
then reads its CPU time (user + system, from /proc through psutil) over a window and prints it as a share
of one core. Target: under 1 %. The baseline in the same run is an idle `python -c "import time;
time.sleep(N)"` measured the same way, to show what the machine's noise floor is.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import scheduler_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_PERCENT = 1.0
JOBS = 1000


def cpu_percent_of(process: subprocess.Popen, seconds: float) -> float:
    handle = psutil.Process(process.pid)
    before = sum(handle.cpu_times()[:2])
    time.sleep(seconds)
    after = sum(handle.cpu_times()[:2])
    return 100.0 * (after - before) / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        _, env = scheduler_database(Path(workdir), "idle.db",
                                    [(f"job-{index}", "x.py", "0 0 1 1 *") for index in range(JOBS)])
        scheduler = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "run"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sleeper = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({args.seconds * 3})"])
        try:
            time.sleep(5)  # start-up: imports, loading and parsing 1,000 cron expressions
            scheduler_percent = cpu_percent_of(scheduler, args.seconds)
            baseline_percent = cpu_percent_of(sleeper, args.seconds)
        finally:
            scheduler.terminate()
            scheduler.wait(timeout=60)
            sleeper.kill()
    print(f"jobs: {JOBS} enabled, none due within the window; window {args.seconds:g} s")
    print(f"scheduler CPU: {scheduler_percent:.3f} % of one core (target < {TARGET_PERCENT} %)")
    print(f"baseline (a sleeping Python process): {baseline_percent:.3f} % of one core")
    met = scheduler_percent < TARGET_PERCENT
    print("target met" if met else "TARGET MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
