"""CPU cost of one sample taken inside a long-running process (the dashboard's live sample; an agent's loop)
against the operating system's own reads of the same figures, alternating in one process.

  resident - dashboard.live_sample.LiveSampler: the collectors, rates against the previous live sample,
             the stored-row shape and its JSON, as /monitoring/metrics/current serves it;
  reads    - the psutil calls the collectors make (CPU times, memory, swap, partitions and their usage, disk and
             network counters, interface state, the process table), with nothing done to their results.

The ratio resident/reads is what the platform adds to what the machine charges for reading its own figures.

    python benchmarks/bench_sample_resident.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]  # the project, as from its root
from config.settings import load_settings  # noqa: E402
from dashboard.live_sample import LiveSampler  # noqa: E402


def os_reads() -> None:
    """What the collectors ask the operating system for, and nothing more."""
    psutil.cpu_times()
    psutil.cpu_times(percpu=True)
    psutil.virtual_memory()
    psutil.swap_memory()
    for partition in psutil.disk_partitions(all=False):
        try:
            psutil.disk_usage(partition.mountpoint)
        except OSError:
            pass
    psutil.disk_io_counters(perdisk=False, nowrap=False)
    psutil.disk_io_counters(perdisk=True, nowrap=False)
    psutil.net_io_counters(pernic=True, nowrap=False)
    psutil.net_if_stats()
    for process in psutil.process_iter(["pid", "create_time", "cpu_times", "memory_info"], ad_value=None):
        process.info  # noqa: B018 - read, as the processes collector reads it


def cpu_seconds(action: object) -> float:
    started = time.process_time()
    action()  # type: ignore[operator]
    return time.process_time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        os.environ["AUTOMATION_ENV_FILE"] = str(Path(workdir) / ".env")
        (Path(workdir) / ".env").write_text(f"DATABASE_URL=sqlite:///{workdir}/bench.db\nLOG_FILE=off\n")
        settings = load_settings()
    sampler = LiveSampler(settings, max_age_seconds=0.0)
    sampler.prime()
    for _ in range(5):  # warm: imports done lazily, caches filled
        sampler.current()
        os_reads()
    resident, reads = [], []
    for _ in range(args.rounds):
        resident.append(cpu_seconds(sampler.current))
        reads.append(cpu_seconds(os_reads))
    ratio = statistics.median(resident) / statistics.median(reads)
    print(f"rounds: {args.rounds} (alternating in one process; CPU time of this process)")
    print(f"operating system reads  median CPU {1000 * statistics.median(reads):.2f} ms")
    print(f"resident sample         median CPU {1000 * statistics.median(resident):.2f} ms")
    print(f"CPU ratio resident/reads: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
