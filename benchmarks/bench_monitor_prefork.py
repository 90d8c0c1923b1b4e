"""CPU cost of a scheduled monitoring run forked from the pre-imported worker vs a fresh process.

Runs the monitor job (`--quiet`, saving to a temporary SQLite database) through the scheduler's own runner
(scheduler.runner.run_process) in two ways, alternating round by round:
  fresh   - `python scripts/monitoring/system_monitor.py --quiet` as a new process (SCHEDULER_PREFORK=false);
  forked  - a child of scheduler.prefork_server, started through scheduler.prefork_client (the default).
The CPU of a run is everything it costs: this process's own CPU (starting the run, capturing its output) plus
the job's (for fresh runs the reaped child's rusage; for forked runs the worker's CPU including its reaped
children, read from /proc). Target: forked CPU at most 1/10 of fresh.

The project is byte-compiled first (the fresh runs' best case; where PYTHONDONTWRITEBYTECODE is set, as on
these machines, a fresh run would otherwise recompile every module and cost more than twice as much).

    python benchmarks/bench_monitor_prefork.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]  # the project, as from its root
from common import compile_project  # noqa: E402

from scheduler.executions import MONITOR_MODULE, MONITOR_SCRIPT  # noqa: E402
from scheduler.prefork_client import PreforkWorker  # noqa: E402
from scheduler.runner import run_process  # noqa: E402
from storage.enums import ExecutionStatus  # noqa: E402

CPU_RATIO_TARGET = 0.10


def own_and_children_cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def worker_cpu_seconds(worker_pid: int) -> float:
    """The worker's CPU and that of the children it has reaped (utime, stime, cutime, cstime)."""
    return sum(psutil.Process(worker_pid).cpu_times()[:4])


def measure(worker: PreforkWorker | None, env: dict[str, str], workdir: str) -> tuple[float, float]:
    """CPU seconds and wall seconds of one monitoring run."""
    arguments = ["--quiet"]
    starter = None
    if worker is not None:

        def starter(stdout, stderr):
            return worker.spawn(MONITOR_MODULE, arguments, str(ROOT), env, stdout, stderr)

    worker_pid = worker.pid if worker is not None else None  # it reports a child's exit after reaping it
    cpu_before = own_and_children_cpu_seconds() + (worker_cpu_seconds(worker_pid) if worker_pid else 0.0)
    started = time.perf_counter()
    outcome = run_process(
        [sys.executable, str(MONITOR_SCRIPT), *arguments], cwd=workdir, env=env, timeout_seconds=60, starter=starter
    )
    wall = time.perf_counter() - started
    if outcome.status is not ExecutionStatus.SUCCESS:
        raise RuntimeError(f"monitor run {outcome.status.value}: {outcome.error_message} {outcome.stderr}")
    cpu_after = own_and_children_cpu_seconds() + (worker_cpu_seconds(worker_pid) if worker_pid else 0.0)
    return cpu_after - cpu_before, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    compile_project()
    with tempfile.TemporaryDirectory() as workdir:
        env_file = Path(workdir) / ".env"
        env_file.write_text(f"DATABASE_URL=sqlite:///{workdir}/bench.db\nLOG_FILE={workdir}/bench.log\n")
        env = {**os.environ, "AUTOMATION_ENV_FILE": str(env_file), "PYTHONUNBUFFERED": "1"}
        os.environ["AUTOMATION_ENV_FILE"] = str(env_file)  # the worker's warm-up reads the same settings
        measure(None, env, workdir)  # creates the database and the first sample
        worker = PreforkWorker()
        worker.start()
        measure(worker, env, workdir)  # waits for the worker's imports and warm-up
        fresh_cpu, forked_cpu, fresh_wall, forked_wall = [], [], [], []
        try:
            for _ in range(args.rounds):
                cpu, wall = measure(None, env, workdir)
                fresh_cpu.append(cpu)
                fresh_wall.append(wall)
                cpu, wall = measure(worker, env, workdir)
                forked_cpu.append(cpu)
                forked_wall.append(wall)
        finally:
            worker.close()
    ratio = statistics.median(forked_cpu) / statistics.median(fresh_cpu)
    print(f"rounds: {args.rounds} (alternating; bytecode compiled; SQLite database in a temporary directory)")
    print(
        f"fresh process   median CPU {1000 * statistics.median(fresh_cpu):.1f} ms, "
        f"median wall {1000 * statistics.median(fresh_wall):.1f} ms"
    )
    print(
        f"forked child    median CPU {1000 * statistics.median(forked_cpu):.1f} ms, "
        f"median wall {1000 * statistics.median(forked_wall):.1f} ms"
    )
    print(f"CPU ratio forked/fresh: {ratio:.3f} (target <= {CPU_RATIO_TARGET})")
    met = ratio <= CPU_RATIO_TARGET
    print("target met" if met else "TARGET MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
