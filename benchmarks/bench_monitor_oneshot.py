"""One-shot monitor run in a new process vs the import floor of its own stack.

Runs `python scripts/monitoring/system_monitor.py --quiet` (collect, save, grade, report) against a temporary
SQLite database, alternating with `python -c "import sqlalchemy.orm, psutil, dotenv"`, and prints the ratio of
median wall times and the peak resident memory. Targets: ratio <= 1.25, peak <= 60 MiB.

The project's modules are byte-compiled first, as Python does on a first run by itself; where
PYTHONDONTWRITEBYTECODE is set (as on these machines) every run would otherwise recompile them from source.

    python benchmarks/bench_monitor_oneshot.py [--rounds 21]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from common import alternate, compile_project, run_measured

ROOT = Path(__file__).resolve().parent.parent
WALL_RATIO_TARGET = 1.25
PEAK_MIB_TARGET = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    compile_project()
    with tempfile.TemporaryDirectory() as workdir:
        env_file = Path(workdir) / ".env"
        env_file.write_text(f"DATABASE_URL=sqlite:///{workdir}/bench.db\nLOG_FILE={workdir}/bench.log\n")
        env = {**os.environ, "AUTOMATION_ENV_FILE": str(env_file)}
        monitor = [sys.executable, str(ROOT / "scripts/monitoring/system_monitor.py"), "--quiet"]
        floor = [sys.executable, "-c", "import sqlalchemy.orm, psutil, dotenv"]
        run_measured(monitor, env=env, cwd=workdir)  # first run: creates the database, samples 0.25 s
        results = alternate({"floor": floor, "monitor": monitor}, args.rounds, env=env, cwd=workdir)
    floor_runs, monitor_runs = results["floor"], results["monitor"]
    ratio = monitor_runs.median_wall() / floor_runs.median_wall()
    print(f"rounds: {args.rounds} (alternating, after one warm-up run that creates the database)")
    print(f"import floor  median wall {floor_runs.median_wall():.3f} s, peak RSS {floor_runs.max_rss():.1f} MiB")
    print(f"monitor run   median wall {monitor_runs.median_wall():.3f} s, peak RSS {monitor_runs.max_rss():.1f} MiB")
    print(f"wall-time ratio monitor/floor: {ratio:.2f} (target <= {WALL_RATIO_TARGET})")
    print(f"monitor peak memory: {monitor_runs.max_rss():.1f} MiB (target <= {PEAK_MIB_TARGET:.0f} MiB)")
    met = ratio <= WALL_RATIO_TARGET and monitor_runs.max_rss() <= PEAK_MIB_TARGET
    print("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
