"""The containers collector's cost per sample with 50 running containers (idle busybox `sleep`), against `docker stats
--no-stream` and against the stats API path (a one-shot stats request per container, at most 5 at a time, as Beszel
collects), in the same run, rounds alternating.

A Docker daemon of its own is started as the tests start it (tests/container_engines.py: own data root and socket, a
busybox image built FROM scratch), and torn down at the end. Measured per sample: wall time, the CPU time of the
measuring side (this process for the collector and the stats requests: time.process_time, threads included; the
`docker` client's rusage for `docker stats`) and the engine's CPU time (dockerd and its containerd, from
/proc/PID/stat, in clock ticks of 10 ms). The collector is measured warm (what an agent or the dashboard pays each
sample: only the listing, the cgroup files and the inspects of what changed) and cold (a one-shot run: every
container inspected once). Goal: under 20 ms of CPU per sample. Linux, root, docker.io and busybox-static installed.

    python benchmarks/bench_containers.py [--containers 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.settings import load_settings  # noqa: E402
from monitoring.collectors import containers  # noqa: E402
from monitoring.containers.engine_stats import docker_stats  # noqa: E402
from monitoring.rates import CounterSnapshot  # noqa: E402
from tests.container_engines import Engine, EngineSession  # noqa: E402

TARGET_CPU_MS = 20.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def engine_pids(engine_root: Path) -> list[int]:
    """dockerd and the containerd it manages (its command line names the session's exec root)."""
    marker = str(engine_root).encode()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker in cmdline and cmdline.startswith((b"dockerd", b"containerd\0")):
                pids.append(int(entry))
    return pids


class Measured:
    def __init__(self) -> None:
        self.wall_ms: list[float] = []
        self.cpu_ms: list[float] = []
        self.engine_cpu_ms: list[float] = []

    def line(self, name: str) -> str:
        return (
            f"{name:<34} wall {statistics.median(self.wall_ms):8.1f} ms   CPU {statistics.median(self.cpu_ms):7.2f} ms"
            f"   engine CPU {statistics.median(self.engine_cpu_ms):7.1f} ms"
        )


def measure(into: Measured, engine_processes: list[int], action: Callable[[], float | None]) -> None:
    """Run `action` once; it returns its own CPU seconds (a child's), or None to take this process's."""
    engine_before = sum(cpu_seconds(pid) for pid in engine_processes)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    child_cpu = action()
    wall, cpu = time.perf_counter() - wall_before, time.process_time() - cpu_before
    engine = sum(cpu_seconds(pid) for pid in engine_processes) - engine_before
    into.wall_ms.append(wall * 1000)
    into.cpu_ms.append((cpu if child_cpu is None else child_cpu) * 1000)
    into.engine_cpu_ms.append(engine * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    session = EngineSession()
    try:
        engine = session.start_docker()
        run(session, engine, args.containers, args.rounds)
    finally:
        session.close()


def run(session: EngineSession, engine: Engine, count: int, rounds: int) -> None:
    print(f"starting {count} idle containers ...", flush=True)
    ids = [engine.run(f"idle{index}", "sleep", "1000000") for index in range(count)]
    settings = load_settings({"CONTAINER_ENGINE_SOCKET": engine.socket_path, "LOG_FILE": "off"})
    processes = engine_pids(session.root / "docker")
    results = {
        name: Measured()
        for name in ("collector, warm", "collector, cold", "docker stats --no-stream", "stats API, one-shot each")
    }
    previous = containers.collect(settings)

    def collector() -> None:
        nonlocal previous
        reading = containers.collect(settings)
        baseline = CounterSnapshot(datetime.now(timezone.utc), None, containers=containers.counters(previous))
        containers.apply_rates(reading, baseline, 1.0)
        assert len(reading.containers) == count and not reading.problems, reading.problems
        assert all(item.cpu_cores is not None for item in reading.containers)
        previous = reading

    def cold() -> None:
        containers._known.clear()  # a one-shot run knows nothing of the containers yet
        collector()

    def docker_cli() -> float:
        started = subprocess.Popen(
            ["docker", "stats", "--no-stream"], env=engine.environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(started.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("docker stats --no-stream failed")
        return usage.ru_utime + usage.ru_stime

    def stats_api() -> None:
        found = docker_stats(engine.socket_path, 30.0, ids)
        assert len(found) == count, f"{count - len(found)} stats requests failed"

    actions = {
        "collector, warm": collector,
        "collector, cold": cold,
        "docker stats --no-stream": docker_cli,
        "stats API, one-shot each": stats_api,
    }
    for round_index in range(rounds):
        for name, action in actions.items():
            time.sleep(1.0)  # a sampling interval apart, so rates have a span
            measure(results[name], processes, action)
        print(f"round {round_index + 1}/{rounds} done", flush=True)

    print(
        f"\n{count} running containers, medians of {rounds} rounds (Docker {_version(engine)}, cgroup "
        f"{'v2' if os.path.exists('/sys/fs/cgroup/cgroup.controllers') else 'v1'}, {os.cpu_count()} CPUs)"
    )
    for name, measured in results.items():
        print(measured.line(name))
    warm = results["collector, warm"]
    for name in ("docker stats --no-stream", "stats API, one-shot each"):
        other = results[name]
        print(
            f"{name}: {statistics.median(other.wall_ms) / statistics.median(warm.wall_ms):.0f}x the warm collector's "
            f"wall time, {statistics.median(other.cpu_ms) / statistics.median(warm.cpu_ms):.1f}x its CPU"
        )
    for name in ("collector, warm", "collector, cold"):
        cpu = statistics.median(results[name].cpu_ms)
        verdict = "met" if cpu < TARGET_CPU_MS else "NOT met"
        print(f"{name}: {cpu:.2f} ms CPU per sample, goal under {TARGET_CPU_MS:g} ms: {verdict}")


def _version(engine: Engine) -> str:
    return engine.cli("version", "--format", "{{.Server.Version}}").stdout.strip()


if __name__ == "__main__":
    main()
