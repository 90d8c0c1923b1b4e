"""Pruning a year of per-minute samples down to RETENTION_METRICS_DAYS=90, and what it costs other writers.

Fills a temporary SQLite database (after `python main.py db init`) with 525,600 samples of one host, each with
two per-core detail rows, then runs storage.retention.prune as `db prune` does. Meanwhile a second process
writes a one-row transaction every 50 ms (a scheduler's heartbeat; a monitor run or a scheduler claim is as
short) and records how long each waited for the write lock. Figures: the prune's rows per second, as a ratio to
the fill's in the same run, and the writer's longest and p99 wait during the prune against its waits with
nothing else running. The point of the batches: the writer should wait milliseconds, not the whole prune.

    python benchmarks/bench_retention.py [--days 365] [--keep-days 90]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
from common import percentile  # noqa: E402

CHUNK = 20_000
WRITE_EVERY_SECONDS = 0.05


def fill(url: str, days: int, now: datetime) -> tuple[int, float]:
    """Per-minute samples of the last `days` days with two core rows each; (rows, seconds)."""
    from sqlalchemy import create_engine

    from monitoring.catalogue import CHARTED_COLUMNS
    from storage.bulk_samples import add_sample_details, add_samples, sample_ids

    samples = days * 1440
    start = now - timedelta(minutes=samples)
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        for first in range(0, samples, CHUNK):
            add_samples(
                connection,
                [
                    {
                        "timestamp": start + timedelta(minutes=index),
                        "hostname": "bench",
                        CHARTED_COLUMNS[0]: index % 100,
                    }
                    for index in range(first, min(first + CHUNK, samples))
                ],
            )
        ids = sample_ids(connection)
        for first in range(0, len(ids), CHUNK):
            add_sample_details(
                connection,
                "system_metric_cpu_cores",
                [
                    {"system_metric_id": sample_id, "core_index": core, "busy_seconds_total": 1.0, "seconds_total": 2.0}
                    for sample_id in ids[first : first + CHUNK]
                    for core in (0, 1)
                ],
            )
    seconds = time.perf_counter() - started
    engine.dispose()
    return samples * 3, seconds


def writer(url: str, stop: Any, waits: Any) -> None:
    """A small write transaction every WRITE_EVERY_SECONDS; each one's duration goes to `waits` (seconds)."""
    from storage.database import create_database_engine, write_transaction
    from storage.scheduler_store import record_heartbeat, register_instance

    engine = create_database_engine(url)
    instance_id = f"bench-writer:{os.getpid()}"
    with write_transaction(engine) as connection:
        register_instance(connection, instance_id, "bench", os.getpid(), datetime.now(timezone.utc))
    measured = []
    while not stop.is_set():
        started = time.perf_counter()
        with write_transaction(engine) as connection:
            record_heartbeat(connection, instance_id, datetime.now(timezone.utc))
        measured.append(time.perf_counter() - started)
        time.sleep(WRITE_EVERY_SECONDS)
    waits.put(measured)


def measured_waits(
    url: str, during: float | None = None, action: Callable[[], object] | None = None
) -> tuple[list[float], float]:
    """Run the writer while `action` runs (or for `during` seconds); (its waits in ms, the action's seconds)."""
    stop, waits = multiprocessing.Event(), multiprocessing.Queue()
    process = multiprocessing.Process(target=writer, args=(url, stop, waits))
    process.start()
    time.sleep(0.5)
    started = time.perf_counter()
    if action is not None:
        action()
    else:
        time.sleep(during or 0)
    elapsed = time.perf_counter() - started
    stop.set()
    result = waits.get(timeout=60)
    process.join(timeout=60)
    return [1000 * value for value in result], elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--keep-days", type=int, default=90)
    args = parser.parse_args()
    from config.retention_settings import RetentionSettings
    from storage.database import create_database_engine
    from storage.retention import prune

    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{Path(workdir) / 'retention.db'}"
        env_file = Path(workdir) / ".env"
        env_file.write_text(f"DATABASE_URL={url}\nLOG_FILE=off\n")
        subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "db", "init"],
            check=True,
            capture_output=True,
            env={**os.environ, "AUTOMATION_ENV_FILE": str(env_file)},
        )
        rows, fill_seconds = fill(url, args.days, now)
        idle_waits, _ = measured_waits(url, during=5.0)
        engine = create_database_engine(url)
        results = []
        busy_waits, prune_seconds = measured_waits(
            url, action=lambda: results.extend(prune(engine, RetentionSettings(args.keep_days, None, None), now))
        )
        engine.dispose()
    deleted = next(result.rows for result in results if result.table == "system_metrics")
    deleted_rows = deleted * 3
    print(
        f"database: {rows:,} rows ({args.days} days of per-minute samples, 2 core rows each), "
        f"filled in {fill_seconds:.1f} s ({rows / fill_seconds:,.0f} rows/s)"
    )
    print(
        f"prune to {args.keep_days} days: {deleted:,} samples + {deleted * 2:,} detail rows in {prune_seconds:.1f} s "
        f"({deleted_rows / prune_seconds:,.0f} rows/s; {deleted_rows / prune_seconds / (rows / fill_seconds):.2f} "
        f"of the fill's rate)"
    )
    print(
        f"a writer's wait, idle:        median {percentile(idle_waits, 50):.1f}, p99 "
        f"{percentile(idle_waits, 99):.1f}, max {max(idle_waits):.1f} ms ({len(idle_waits)} writes)"
    )
    print(
        f"a writer's wait, during prune: median {percentile(busy_waits, 50):.1f}, p99 "
        f"{percentile(busy_waits, 99):.1f}, max {max(busy_waits):.1f} ms ({len(busy_waits)} writes)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
