"""The fleet view with 1,000 hosts: server time of GET /api/v1/hosts. Target: under 100 ms.

Fills a fresh database (SQLite by default; --postgresql or --mysql for a fresh database on that server) with
--hosts registered hosts (hosts rows: most up, some silent, some in maintenance, some never seen), --samples
recent samples of each (storage.bulk_samples, 30 s apart; then ANALYZE on the servers, as their automatic
maintenance soon does) and an active incident for one host in ten, starts
`python main.py serve` on it and times GET /api/v1/hosts alternately with GET /monitoring/thresholds (a JSON route
of the same server that reads no database: its floor of routing, a worker thread and HTTP), each request on one
kept-alive loopback connection, so the time is the server's plus a loopback round trip. Before each fleet request
--pushes new samples of as many hosts are committed from another connection (as ingest does while agents push:
a thousand hosts every 30 s are 33 samples a second). Reports the median and p99 of each and the ratio of the
medians, and checks that every host is listed and the newest samples are shown.

The server keeps every host's newest sample between requests and reads only the samples stored since
(storage.newest_samples), reading everything again every 30 s; what such a full read costs is timed apart, in this
process, with the route's own functions (fleet_hosts without the kept samples, the statuses, the JSON).

    python benchmarks/bench_fleet_view.py [--hosts 1000] [--samples 5] [--pushes 10] [--requests 200]
                                          [--postgresql | --mysql]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]  # the project, as from its root; this folder is already first (common.py)
from common import free_port, percentile, timed_get, wait_until_up  # noqa: E402

from monitoring.catalogue import FLEET_FIGURES  # noqa: E402

TARGET_MS = 100.0
PUSHED_FIGURES = (99.5, 10.0, 20.0)  # the headline figures of the samples pushed between requests
FLEET, FLOOR = "/api/v1/hosts", "/monitoring/thresholds"
SERVERS = {
    "postgresql": ("postgresql+psycopg://postgres@127.0.0.1:5432/test", " WITH (FORCE)"),
    "mysql": ("mysql+pymysql://root@127.0.0.1:3306/test", ""),
}


@contextmanager
def fresh_database(backend: str, workdir: Path) -> Iterator[str]:
    """The URL of an empty database: a file in `workdir`, or a new database on the server, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'fleet.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url, drop_options = SERVERS[backend]
    name = f"bench_fleet_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}{drop_options}"))
        admin.dispose()


def fill(url: str, hosts: int, samples: int, now: datetime) -> float:
    """The fleet, as the hub stores it; returns the seconds it took."""
    from sqlalchemy import create_engine, insert, text

    from storage import tables
    from storage.bulk_samples import add_samples

    names = [f"host-{index:05d}" for index in range(hosts)]
    started = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(tables.hosts),
            [
                {
                    "name": name,
                    "key_hash": f"{index:064x}",
                    "created_at": now - timedelta(days=30),
                    # one in 20 silent for an hour, one in 50 in maintenance, one in 100 never seen
                    "last_seen_at": None if index % 100 == 99 else now - timedelta(hours=1 if index % 20 == 7 else 0),
                    "agent_version": "1.0.0",
                    "source": "agent",
                    "interval_seconds": 30.0,
                    "clock_skew_seconds": (index % 7 - 3) / 10,
                    "maintenance_since": now - timedelta(days=1) if index % 50 == 3 else None,
                }
                for index, name in enumerate(names)
            ],
        )
        batch: list[dict[str, object]] = []
        for index, name in enumerate(names):
            if index % 100 == 99:
                continue  # never seen: no samples
            for step in range(samples):
                batch.append(
                    {
                        "timestamp": now - timedelta(seconds=30 * (samples - step)),
                        "hostname": name,
                        "platform": "linux",
                        **dict(
                            zip(FLEET_FIGURES, ((index * 7 + step) % 100, (index * 3) % 100, index % 90), strict=True)
                        ),
                        "disk_mountpoint": "/",
                    }
                )
            if len(batch) >= 20_000:
                add_samples(connection, batch)
                batch = []
        add_samples(connection, batch)
        connection.execute(
            insert(tables.alert_incidents),
            [
                {
                    "host": name,
                    "metric": FLEET_FIGURES[0],
                    "resource": "",
                    "status": "critical" if index % 20 == 0 else "warning",
                    "started_at": now,
                    "last_seen_at": now,
                    "sample_count": 1,
                }
                for index, name in enumerate(names)
                if index % 10 == 0
            ],
        )
    if engine.dialect.name == "postgresql":  # what autovacuum does soon after a bulk load: plans use the indexes
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    elif engine.dialect.name in ("mysql", "mariadb"):
        with engine.begin() as connection:
            connection.execute(text("ANALYZE TABLE hosts, system_metrics, alert_incidents"))
    engine.dispose()
    return time.perf_counter() - started


def push(url: str, hosts: int, count: int, first: int, now: datetime) -> None:
    """`count` new samples of hosts first, first+1, ... (mod the fleet), committed at once."""
    from sqlalchemy import create_engine

    from storage.bulk_samples import add_samples

    engine = create_engine(url)
    with engine.begin() as connection:
        add_samples(
            connection,
            [
                {
                    "timestamp": now,
                    "hostname": f"host-{(first + index) % hosts:05d}",
                    "platform": "linux",
                    **dict(zip(FLEET_FIGURES, PUSHED_FIGURES, strict=True)),
                    "disk_mountpoint": "/",
                }
                for index in range(count)
            ],
        )
    engine.dispose()


def full_read_ms(url: str, rounds: int) -> list[float]:
    """Milliseconds of the route's work with nothing kept: every host's newest sample read, statuses, JSON."""
    from sqlalchemy import create_engine

    from config.fleet_settings import parse_fleet_settings
    from dashboard.responses import encode_json
    from fleet.host_status import describe_host
    from storage.fleet_queries import fleet_hosts
    from storage.types import utc_now

    fleet, engine, times = parse_fleet_settings({}), create_engine(url), []
    with engine.connect() as connection:
        for _ in range(rounds + 2):  # the first two warm up
            started = time.perf_counter()
            now = utc_now()
            encode_json({"time": now, "items": [describe_host(fleet, now, host) for host in fleet_hosts(connection)]})
            times.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return times[2:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=5, help="recent samples per host, 30 s apart")
    parser.add_argument("--requests", type=int, default=200, help="timed requests of each route, alternated")
    parser.add_argument("--pushes", type=int, default=10, help="new samples committed before each fleet request")
    backend = parser.add_mutually_exclusive_group()
    backend.add_argument("--postgresql", action="store_const", dest="backend", const="postgresql")
    backend.add_argument("--mysql", action="store_const", dest="backend", const="mysql")
    args = parser.parse_args()
    args.backend = args.backend or "sqlite"
    with tempfile.TemporaryDirectory() as workdir, fresh_database(args.backend, Path(workdir)) as url:
        port = free_port()
        env_file = Path(workdir) / ".env"
        env_file.write_text(f"DATABASE_URL={url}\nLOG_FILE=off\nLOG_LEVEL=WARNING\nAPI_PORT={port}\n")
        env = {**os.environ, "AUTOMATION_ENV_FILE": str(env_file)}
        main_py = [sys.executable, str(ROOT / "main.py")]
        subprocess.run([*main_py, "db", "init"], env=env, check=True, capture_output=True)
        fill_seconds = fill(url, args.hosts, args.samples, datetime.now(timezone.utc))
        server = subprocess.Popen([*main_py, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_up(f"http://127.0.0.1:{port}{FLOOR}", server)
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for _ in range(5):  # warm-up: imports, compiled statements, the pool
                timed_get(client, FLEET), timed_get(client, FLOOR)
            fleet, floor = [], []
            for round_ in range(args.requests):  # in turn, so machine noise hits both alike
                push(url, args.hosts, args.pushes, round_ * args.pushes, datetime.now(timezone.utc))
                elapsed, body = timed_get(client, FLEET)
                fleet.append(elapsed)
                floor.append(timed_get(client, FLOOR)[0])
        finally:
            server.terminate()
            server.wait(timeout=60)
        full = full_read_ms(url, max(args.requests // 5, 5))
    listed = json.loads(body)["items"]
    pushed = {f"host-{(args.requests * args.pushes - 1 - index) % args.hosts:05d}" for index in range(args.pushes)}
    statuses: dict[str, int] = {}
    for host in listed:
        statuses[host["status"]] = statuses.get(host["status"], 0) + 1
    print(
        f"{args.backend}: {args.hosts:,} hosts, {args.samples} samples each (filled in {fill_seconds:.1f} s); "
        f"{os.cpu_count()} CPUs shared by client and server; load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(f"answer: {len(body) / 1024:.0f} KiB, " + ", ".join(f"{count} {name}" for name, count in statuses.items()))
    print(f"\n{'route':<26} {'median ms':>9} {'p99 ms':>7} {'ratio':>6}  ({args.requests} requests each)")
    fleet_median = statistics.median(fleet)
    for path, values in ((FLEET, fleet), (FLOOR, floor), ("a full read (in-process)", full)):
        median = statistics.median(values)
        print(f"{path:<26} {median:>9.1f} {percentile(values, 99):>7.1f} {median / statistics.median(floor):>6.2f}")
    met = {
        f"{FLEET}: median < {TARGET_MS:.0f} ms": fleet_median < TARGET_MS,
        f"{FLEET}: p99 < {TARGET_MS:.0f} ms": percentile(fleet, 99) < TARGET_MS,
        f"{FLEET}: every host listed ({len(listed):,} of {args.hosts:,})": len(listed) == args.hosts,
        f"{FLEET}: shows the last pushed samples": all(
            [host[name] for name in FLEET_FIGURES] == list(PUSHED_FIGURES) for host in listed if host["name"] in pushed
        ),
        f"a full read: median < {TARGET_MS:.0f} ms": statistics.median(full) < TARGET_MS,
    }
    print()
    for target, reached in met.items():
        print(f"target {target}: " + ("met" if reached else "MISSED"))
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
