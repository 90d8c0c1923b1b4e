"""A 30-day chart over a year of per-minute samples: /monitoring/metrics downsampled to at most 1,000 points.
Target: at most 150 ms.

Fills a temporary SQLite database with 525,600 samples of one host (Core executemany inserts through
storage.tables, after `python main.py db init`), starts `python main.py serve` on it and times the request, each
time after storing a new sample (after the range: the same chart, which the server must compute again rather
than serve the answer it kept); the same request once more right after it is the kept answer. Two baselines from
the same run: the HTTP floor (GET /monitoring/hosts, a trivial route, same client) and the database floor (one
sqlite3 aggregate over the same 30 days, no bucketing, no Python in between).

    python benchmarks/bench_dashboard_downsampling.py [--rounds 20] [--keep DB]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]  # the project, as from its root; this folder is already first (common.py)
from common import dashboard_database, fill_samples, store_sample, wait_until_up  # noqa: E402

from monitoring.catalogue import CHARTED_COLUMNS  # noqa: E402

TARGET_MS = 150.0
SAMPLES = 365 * 24 * 60
HOST = "bench-host"
END = datetime(2026, 11, 1, tzinfo=timezone.utc)


def timed_get(url: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read()
    return (time.perf_counter() - started) * 1000, body


def database_floor_ms(database: Path, start: datetime, end: datetime) -> float:
    connection = sqlite3.connect(database)
    try:
        started = time.perf_counter()
        column = CHARTED_COLUMNS[0]  # one column's aggregate: what the database alone needs for the range
        connection.execute(
            f"SELECT count(*), avg({column}), max({column}) FROM system_metrics "
            "WHERE hostname = ? AND timestamp BETWEEN ? AND ?",
            (HOST, start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S")),
        ).fetchall()
        return (time.perf_counter() - started) * 1000
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--keep", metavar="DB", help="keep (and reuse) the filled database at this path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        database = Path(args.keep).resolve() if args.keep else Path(workdir) / "year.db"
        env, port, fresh = dashboard_database(Path(workdir), database)
        fill_seconds = fill_samples(database, SAMPLES, [HOST], END) if fresh else None
        start, end = END - timedelta(days=30), END
        query = urllib.parse.urlencode(
            {"hostname": HOST, "start_time": start.isoformat(), "end_time": end.isoformat(), "points": 1000}
        )
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/monitoring/hosts", server)
            chart, kept, floor, database_ms = [], [], [], []
            for minute in range(1, args.rounds + 1):  # in turn, so machine noise hits all of them alike
                store_sample(database, HOST, END + timedelta(minutes=minute))
                elapsed, body = timed_get(f"{base}/monitoring/metrics?{query}")
                chart.append(elapsed)
                kept.append(timed_get(f"{base}/monitoring/metrics?{query}")[0])
                floor.append(timed_get(f"{base}/monitoring/hosts")[0])
                database_ms.append(database_floor_ms(database, start, end))
            document = json.loads(body)
        finally:
            server.terminate()
            server.wait(timeout=60)
    points, samples = len(document["items"]), sum(item["samples"] for item in document["items"])
    chart_median = statistics.median(chart)
    print(
        f"database: {SAMPLES:,} per-minute samples of one host"
        + (f", filled in {fill_seconds:.1f} s" if fill_seconds is not None else " (reused)")
    )
    print(f"30-day chart: {points} points of {document['step_seconds']} s covering {samples:,} samples")
    print(f"{'request':<44} {'median ms':>9} {'max ms':>7} {'ratio':>6}")
    for name, values in (
        ("/monitoring/metrics 30 days, points=1000", chart),
        ("the same request again: the kept answer", kept),
        ("HTTP floor: /monitoring/hosts", floor),
        ("database floor: one sqlite3 aggregate", database_ms),
    ):
        print(
            f"{name:<44} {statistics.median(values):>9.1f} {max(values):>7.1f} "
            f"{chart_median / statistics.median(values):>6.1f}"
        )
    met = chart_median <= TARGET_MS and points <= 1000
    print(f"target: median <= {TARGET_MS:.0f} ms with at most 1,000 points: " + ("met" if met else "MISSED"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
