"""Reading a million stored samples: /monitoring/metrics?limit=100 under 32 connections and /monitoring/stats.
Targets: at least 300 requests/s with p99 under 100 ms; /monitoring/stats under 20 ms.

Fills a temporary SQLite database with per-minute samples of three hosts (storage.bulk_samples; --keep DB keeps
and reuses one), starts `python main.py serve` on it and measures against baselines from the same run and server:

- load: /monitoring/metrics?limit=100 and /monitoring/thresholds (a JSON route of the same server that reads no
  database: its floor of routing, validation and a worker thread) driven in turn with wrk for several rounds;
  medians, and the ratio of their requests/s.
- stats: before each timed GET /monitoring/stats a new sample is stored (with sqlite3, as a monitor run in another
  process would), so every request has something new to count. Alternated with GET /monitoring/thresholds (the
  HTTP floor, same keep-alive client) and the full count the route used to run (one sqlite3 GROUP BY over every
  sample: the database floor of that approach). The first request after start-up counts everything; it is
  reported apart.

    python benchmarks/bench_dashboard_reads.py [--samples 1000000] [--seconds 10] [--rounds 3] [--stats-rounds 50]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]  # the project, as from its root; this folder is already first (common.py)
from common import dashboard_database, fill_samples, percentile, store_sample, timed_get, wait_until_up  # noqa: E402
from http_load import Load, load_driver, median_load  # noqa: E402

TARGET_RPS, TARGET_P99_MS, TARGET_STATS_MS = 300.0, 100.0, 20.0
HOSTS = ["bench-a", "bench-b", "bench-c"]
END = datetime(2026, 11, 1, tzinfo=timezone.utc)
PAGE, FLOOR, STATS = "/monitoring/metrics?limit=100", "/monitoring/thresholds", "/monitoring/stats"
FULL_COUNT = (
    "SELECT hostname, count(*), min(timestamp), max(timestamp) FROM system_metrics GROUP BY hostname ORDER BY hostname"
)


def full_count_ms(database: Path) -> float:
    connection = sqlite3.connect(database)
    try:
        started = time.perf_counter()
        connection.execute(FULL_COUNT).fetchall()
        return (time.perf_counter() - started) * 1000
    finally:
        connection.close()


def load_rounds(base: str, seconds: float, rounds: int, connections: int) -> dict[str, Load]:
    drive = load_driver()
    for path in (PAGE, FLOOR):  # warm-up: imports, compiled statements, the page's first answer
        drive(base + path, 2, connections)
    loads: dict[str, list[Load]] = {PAGE: [], FLOOR: []}
    for _ in range(rounds):
        for path, measured in loads.items():
            measured.append(drive(base + path, seconds, connections))
    return {path: median_load(measured) for path, measured in loads.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000, help="samples in all, spread over three hosts")
    parser.add_argument("--seconds", type=float, default=10.0, help="of each load round and route")
    parser.add_argument("--rounds", type=int, default=3, help="load rounds")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--stats-rounds", type=int, default=50)
    parser.add_argument("--keep", metavar="DB", help="keep (and reuse) the filled database at this path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        database = Path(args.keep).resolve() if args.keep else Path(workdir) / "million.db"
        env, port, fresh = dashboard_database(Path(workdir), database)
        per_host = -(-args.samples // len(HOSTS))  # rounded up: at least --samples in all
        fill_seconds = fill_samples(database, per_host, HOSTS, END) if fresh else None
        stored = sqlite3.connect(database).execute("SELECT count(*), max(id) FROM system_metrics").fetchone()
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base + FLOOR, server)
            first_stats_ms = timed_get(http.client.HTTPConnection("127.0.0.1", port, timeout=60), STATS)[0]
            loads = load_rounds(base, args.seconds, args.rounds, args.connections)
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)  # kept alive from here on
            stats, floor, database_ms = [], [], []
            for minute in range(1, args.stats_rounds + 1):  # in turn, so machine noise hits all three alike
                store_sample(database, HOSTS[0], END + timedelta(minutes=minute))
                elapsed, body = timed_get(client, STATS)
                stats.append(elapsed)
                floor.append(timed_get(client, FLOOR)[0])
                database_ms.append(full_count_ms(database))
            counted = sum(host["samples"] for host in json.loads(body)["hosts"])
        finally:
            server.terminate()
            server.wait(timeout=60)
    expected = stored[0] + args.stats_rounds
    print(
        f"database: {stored[0]:,} per-minute samples of {len(HOSTS)} hosts"
        + (f", filled in {fill_seconds:.1f} s" if fill_seconds is not None else " (reused)")
        + f"; {os.cpu_count()} CPUs shared by client and server; load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"\nload: {load_driver().__name__.removeprefix('with_')}, {args.connections} connections, {args.seconds:g} s "
        f"per route and round, medians of {args.rounds} rounds"
    )
    print(f"{'route':<34} {'req/s':>8} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}")
    for path, load in loads.items():
        ratio = load.requests_per_second / loads[FLOOR].requests_per_second
        print(
            f"{path:<34} {load.requests_per_second:>8.0f} {ratio:>6.2f} {load.p50_ms:>7.1f} {load.p99_ms:>7.1f} "
            f"{load.errors:>6}"
        )
    print(
        f"\n{STATS}: {args.stats_rounds} requests, each after a new sample; the first after start-up "
        f"(counting everything): {first_stats_ms:.1f} ms"
    )
    stats_median = statistics.median(stats)
    print(f"{'request':<52} {'median ms':>9} {'p90 ms':>7} {'ratio':>6}")
    for name, values in (
        ("/monitoring/stats", stats),
        ("HTTP floor: /monitoring/thresholds", floor),
        ("the full count it used to run (sqlite3 alone)", database_ms),
    ):
        median = statistics.median(values)
        print(f"{name:<52} {median:>9.1f} {percentile(values, 90):>7.1f} {stats_median / median:>6.2f}")
    page = loads[PAGE]
    met = {
        f"{PAGE}: >= {TARGET_RPS:.0f} req/s, p99 < {TARGET_P99_MS:.0f} ms, no errors": page.requests_per_second
        >= TARGET_RPS
        and page.p99_ms < TARGET_P99_MS
        and not page.errors,
        f"{STATS}: median < {TARGET_STATS_MS:.0f} ms": stats_median < TARGET_STATS_MS,
        f"{STATS}: counts every sample ({counted:,} of {expected:,})": counted == expected,
    }
    print()
    for target, reached in met.items():
        print(f"target {target}: " + ("met" if reached else "MISSED"))
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
