"""The scheduler's timeliness: from a slot's due time to the job's process starting.

Starts `python main.py run` against a temporary SQLite database holding N jobs (default 25) that run every
minute (`* * * * *`), each a small `#!/bin/sh` script that appends `$(date +%s.%N) $AUTOMATION_JOB_NAME
$AUTOMATION_SCHEDULED_FOR` to a file. A slot's delay is the time `date` printed minus the slot's due time.
Only slots due a few seconds after the scheduler finished starting count; the scheduler runs until at least
--minutes (default 4) full minutes of such slots have come and their runs finished (N x minutes >= 100 slots by
default), then gets SIGTERM. Targets: median at most 100 ms and p99 at most 500 ms over at least 100 slots.

Cross-checks: every counted slot has exactly one line, and the job_executions rows with status success for the
benchmark's jobs are as many as the lines; anything else fails the benchmark. The baseline in the same run is
the cost of process start itself: the same script started one at a time (plain Popen, and the runner's own
start: a new session and a parent-death signal), and N at once (as N simultaneous slots are), each timed from
just before the start to the time `date` prints.

    python benchmarks/bench_scheduler_timeliness.py [--jobs 25] [--minutes 4]

Linux only (date +%N, prctl).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT)]
from common import percentile, scheduler_database  # noqa: E402

from scheduler.runner import start_job_process  # noqa: E402

TARGET_MEDIAN_MS = 100.0
TARGET_P99_MS = 500.0
MINIMUM_SLOTS = 100
SETTLE_SECONDS = 5.0  # slots due this soon after the scheduler registered itself do not count
DRAIN_SECONDS = 10.0  # after the last counted slot, for its runs to finish (at most 60 s in all)
BASELINE_RUNS = 50
JOB_PREFIX = "timeliness-"

SCRIPT = """#!/bin/sh
echo "$(date +%s.%N) $AUTOMATION_JOB_NAME $AUTOMATION_SCHEDULED_FOR" >> {lines}
"""


def summary(values_ms: list[float]) -> str:
    if not values_ms:
        return "no values"
    return (
        f"median {statistics.median(values_ms):.1f}, p90 {percentile(values_ms, 90):.1f}, "
        f"p99 {percentile(values_ms, 99):.1f}, max {max(values_ms):.1f} ms"
    )


def read_lines(path: Path) -> list[tuple[float, str, str]]:
    """(the time date printed, job name, scheduled_for as written) per line."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        stamp, name, *scheduled = line.split(" ")
        rows.append((float(stamp), name, scheduled[0] if scheduled else ""))
    return rows


def start_plain(argv: list[str], cwd: str, env: dict[str, str], stdout: int, stderr: int) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)


def baseline(script: Path, lines: Path, runs: int, burst: int, bursts: int) -> dict[str, list[float]]:
    """Delays (ms) from just before Popen to the time the script's `date` printed."""
    env = {**os.environ, "AUTOMATION_SCHEDULED_FOR": ""}
    started: dict[str, float] = {}
    for index in range(runs):
        for kind, start in (("plain", start_plain), ("runner", start_job_process)):
            name = f"{kind}-{index}"
            started[name] = time.time()
            start(
                [str(script)], str(ROOT), {**env, "AUTOMATION_JOB_NAME": name}, subprocess.DEVNULL, subprocess.DEVNULL
            ).wait()
    for round_number in range(bursts):  # N started back to back, all timed from the first Popen
        time.sleep(0.2)
        names = [f"burst-{round_number}-{index}" for index in range(burst)]
        first = time.time()
        processes = []
        for name in names:
            started[name] = first
            processes.append(
                start_job_process(
                    [str(script)],
                    str(ROOT),
                    {**env, "AUTOMATION_JOB_NAME": name},
                    subprocess.DEVNULL,
                    subprocess.DEVNULL,
                )
            )
        for process in processes:
            process.wait()
    delays: dict[str, list[float]] = {"plain": [], "runner": [], "burst": []}
    for stamp, name, _ in read_lines(lines):
        delays[name.split("-")[0]].append(1000.0 * (stamp - started[name]))
    lines.unlink()
    return delays


def wait_until_registered(database: Path, scheduler: subprocess.Popen, limit_seconds: float = 120.0) -> float:
    """The time the scheduler's scheduler_instances row appeared (it has loaded the jobs right after)."""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        if scheduler.poll() is not None:
            raise RuntimeError(f"the scheduler exited with code {scheduler.returncode} while starting")
        connection = sqlite3.connect(database, timeout=5)
        try:
            registered = connection.execute("SELECT count(*) FROM scheduler_instances").fetchone()[0]
        finally:
            connection.close()
        if registered:
            return time.time()
        time.sleep(0.05)
    raise RuntimeError(f"the scheduler did not register within {limit_seconds:g} s")


def parse_stored(value: str | None) -> datetime | None:
    """A UTCDateTime as SQLite stores it (naive UTC text) -> aware UTC."""
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=25, help="jobs due every minute (default 25)")
    parser.add_argument("--minutes", type=int, default=4, help="full minutes of slots to count (default 4)")
    args = parser.parse_args()
    if args.jobs < 1 or args.minutes < 1:
        parser.error("--jobs and --minutes must be at least 1")
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        lines, script, log = work / "slots.txt", work / "job.sh", work / "scheduler.log"
        script.write_text(SCRIPT.format(lines=lines))
        script.chmod(0o755)
        database, env = scheduler_database(
            work, "t.db", [(f"{JOB_PREFIX}{index}", str(script), "* * * * *") for index in range(args.jobs)]
        )
        connection = sqlite3.connect(database)
        with connection:
            job_ids = [
                row[0] for row in connection.execute("SELECT id FROM jobs WHERE name LIKE ?", (f"{JOB_PREFIX}%",))
            ]
        connection.close()

        base = baseline(script, lines, BASELINE_RUNS, args.jobs, args.minutes)

        with log.open("wb") as log_output:
            scheduler = subprocess.Popen(
                [sys.executable, str(ROOT / "main.py"), "run", "--no-dashboard"],
                env=env,
                stdout=log_output,
                stderr=subprocess.STDOUT,
            )
            try:
                ready = wait_until_registered(database, scheduler)
                settled = datetime.fromtimestamp(ready + SETTLE_SECONDS, timezone.utc)
                first_slot = settled.replace(second=0, microsecond=0) + timedelta(minutes=1)
                slots = [first_slot + timedelta(minutes=index) for index in range(args.minutes)]
                expected = {(f"{JOB_PREFIX}{index}", slot) for slot in slots for index in range(args.jobs)}
                stop_at = slots[-1].timestamp() + DRAIN_SECONDS
                print(
                    f"scheduler registered at {datetime.fromtimestamp(ready, timezone.utc):%H:%M:%S} UTC; "
                    f"counting the slots {slots[0]:%H:%M} to {slots[-1]:%H:%M} UTC ({len(expected)} slots); "
                    f"stopping it in about {stop_at - ready:.0f} s",
                    flush=True,
                )
                while time.time() < stop_at:
                    if scheduler.poll() is not None:
                        raise RuntimeError(f"the scheduler exited with code {scheduler.returncode}")
                    time.sleep(min(1.0, max(stop_at - time.time(), 0.0)))
            finally:
                if scheduler.poll() is None:
                    scheduler.send_signal(signal.SIGTERM)
                    try:
                        scheduler.wait(timeout=90)
                    except subprocess.TimeoutExpired:
                        scheduler.kill()
                        scheduler.wait()
                        failures.append("the scheduler did not stop within 90 s of SIGTERM")
        if scheduler.returncode != 0:
            failures.append(f"the scheduler exited with code {scheduler.returncode}")

        records = read_lines(lines)
        seen = Counter((name, datetime.fromisoformat(scheduled)) for _, name, scheduled in records)
        delays_ms: dict[tuple[str, datetime], float] = {}
        for stamp, name, scheduled in records:
            key = (name, datetime.fromisoformat(scheduled))
            if key in expected:
                delays_ms[key] = 1000.0 * (stamp - key[1].timestamp())
        missing = sorted(expected - set(delays_ms), key=lambda key: (key[1], key[0]))
        doubled = sorted(key for key, count in seen.items() if count > 1)

        connection = sqlite3.connect(database)
        marks = ",".join("?" * len(job_ids))
        statuses = Counter(
            dict(
                connection.execute(
                    f"SELECT status, count(*) FROM job_executions WHERE job_id IN ({marks}) GROUP BY status", job_ids
                )
            )
        )
        started_rows = connection.execute(
            f"SELECT job_name, scheduled_for, started_at FROM job_executions WHERE job_id IN ({marks})", job_ids
        )
        before_popen_ms = []  # due -> the started_at that run_execution stamps before its commit and Popen
        for name, scheduled, started_at in started_rows:
            key, started = (name, parse_stored(scheduled)), parse_stored(started_at)
            if key in expected and started is not None:
                before_popen_ms.append(1000.0 * (started - key[1]).total_seconds())
        connection.close()
        scheduler_log = log.read_text(errors="replace")

    delays = list(delays_ms.values())
    print(
        f"jobs: {args.jobs} due every minute; {args.minutes} counted minute(s); "
        f"{len(expected)} slots expected, {len(delays)} with a line"
    )
    print(
        f"due -> process started: {summary(delays)} "
        f"(target median <= {TARGET_MEDIAN_MS:g} ms, p99 <= {TARGET_P99_MS:g} ms, >= {MINIMUM_SLOTS} slots)"
    )
    for slot in sorted({key[1] for key in expected}):
        in_slot = [delay for key, delay in delays_ms.items() if key[1] == slot]
        print(
            f"  slot {slot:%H:%M}: {len(in_slot)} runs, first {min(in_slot, default=math.nan):.1f}, "
            f"median {statistics.median(in_slot) if in_slot else math.nan:.1f}, "
            f"last {max(in_slot, default=math.nan):.1f} ms"
        )
    print(
        f"  of which due -> started_at stamped by run_execution (before its commit and Popen): "
        f"{summary(before_popen_ms)}"
    )
    print(f"baseline, the script started directly ({BASELINE_RUNS} runs each, Popen -> date):")
    print(f"  plain Popen: {summary(base['plain'])}")
    print(f"  the runner's start (new session, parent-death signal): {summary(base['runner'])}")
    print(f"  {args.jobs} at once, x{args.minutes} (timed from the first Popen): {summary(base['burst'])}")
    print(
        f"database: {statuses.get('success', 0)} success rows for the benchmark's jobs, {len(records)} lines; "
        f"all statuses: {dict(sorted(statuses.items()))}"
    )

    if statuses.get("success", 0) != len(records):
        failures.append(f"{statuses.get('success', 0)} success rows but {len(records)} lines")
    if set(statuses) - {"success"}:
        failures.append(f"rows other than success: {dict(statuses)}")
    if missing:
        shown = ", ".join(f"{name} {slot:%H:%M}" for name, slot in missing[:10])
        failures.append(f"{len(missing)} slot(s) without a line: {shown}{' ...' if len(missing) > 10 else ''}")
    if doubled:
        failures.append(f"{len(doubled)} slot(s) ran more than once: {doubled[:5]}")
    if len(delays) < MINIMUM_SLOTS:
        failures.append(f"only {len(delays)} slots measured (need {MINIMUM_SLOTS}; raise --jobs or --minutes)")
    for failure in failures:
        print(f"BENCHMARK FAILURE: {failure}")
    if failures and scheduler_log.strip():
        print("scheduler output (last 20 lines):\n" + "\n".join(scheduler_log.splitlines()[-20:]))
    met = not failures and statistics.median(delays) <= TARGET_MEDIAN_MS and percentile(delays, 99) <= TARGET_P99_MS
    print("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
