"""The hub's writer alone (fleet.ingest.ingest_group, in this process, no HTTP) on a fresh PostgreSQL database: the
CPU a push of one full sample costs the hub (time.process_time) and the PostgreSQL backend that writes it
(/proc/PID/stat of pg_backend_pid()), in groups of 16 and of 64 pushes, and the rows a sample writes per table.

The pushes are what bench_fleet_ingest.py sends (an 8-core host with 3 mounts, 2 interfaces and a GPU; one host in
ten over its CPU CRITICAL level, so its incident stays open and is graded every time), a sample every 30 s of each
host by a clock of the benchmark's own (so each host's disk-full forecast is due every tenth sample, as at a 30 s
interval). The baseline in the same run is decoding the same pushes as the route does (msgspec): the ratio says
what the writer costs over the floor every push pays anyway. Each host's first push (its outbox unknown) is
written before the timing starts.

    python benchmarks/bench_ingest_writer.py [--hosts 128] [--rounds 20] [--groups 16,64]
                                             [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]  # the project, as from its root; this folder is already first
from bench_fleet_ingest import SERVER_URL, add_hosts, drop_database, fresh_database, full_sample  # noqa: E402

INTERVAL_SECONDS = 30


def backend_cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of these PostgreSQL backends so far (Linux /proc; the server on this machine)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the line)
    return total / ticks


def backends(url: str) -> list[int]:
    """The server processes of the benchmark's database (the writer's pooled connection)."""
    from sqlalchemy import text

    from storage.database import db

    with db.engine.connect() as connection:
        return list(
            connection.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": url.rsplit("/", 1)[1]}
            )
        )


def row_counts() -> dict[str, int]:
    from sqlalchemy import func, select

    from storage import tables
    from storage.database import db

    with db.engine.connect() as connection:
        return {
            name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in tables.metadata.tables.items()
        }


def bodies(keys: list[str], samples: list[bytes], round_number: int, start: datetime) -> Iterator[tuple[str, bytes]]:
    """Each host's push of its sample `round_number` + 1, taken `start` + 30 s per round."""
    from monitoring.wire import batch_body

    taken = (start + timedelta(seconds=INTERVAL_SECONDS * round_number)).timestamp()
    for index, (key, sample) in enumerate(zip(keys, samples, strict=True)):
        yield (
            key,
            batch_body(
                f"{index:032x}", f"bench-{index}", "bench", taken, 30.0, [(round_number + 1, taken, sample)], []
            ),
        )


def measure(url: str, keys: list[str], encoded: list[bytes], group_size: int, rounds: int) -> None:
    """Write `rounds` samples of each host in groups of `group_size` pushes; print what a push cost."""
    from config.settings import load_settings
    from fleet.ingest import Pending, agent_push, ingest_group
    from monitoring.wire import decode_batch

    settings = load_settings({"DATABASE_URL": url, "LOG_FILE": "off"})
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=INTERVAL_SECONDS * (rounds + 1))
    decode_cpu = write_cpu = backend_cpu = 0.0
    pushes = 0
    counted: dict[str, int] = {}
    pids: list[int] = []
    for round_number in range(rounds + 1):
        received_at = start + timedelta(seconds=INTERVAL_SECONDS * round_number)
        stamped = [_redated(body, received_at) for body in encoded]
        raw = list(bodies(keys, stamped, round_number, start))
        if round_number == 1:  # the first pushes (each outbox new, each host's first forecast) are not timed
            counted, pids = row_counts(), backends(url)
        timed = round_number > 0
        for first in range(0, len(raw), group_size):
            chunk = raw[first : first + group_size]
            began = time.process_time()
            group = []
            for key, body in chunk:
                group.append(Pending(settings, key, agent_push(decode_batch(body)), received_at))
            decoded = time.process_time()
            backend_before = backend_cpu_seconds(pids) if timed else 0.0
            done = ingest_group(group)
            written = time.process_time()
            if timed:
                backend_cpu += backend_cpu_seconds(pids) - backend_before
                decode_cpu += decoded - began
                write_cpu += written - decoded
                pushes += len(chunk)
            refused = [each.outcome for each in done if not hasattr(each.outcome, "stored")]
            assert not refused and len(done) == len(chunk), refused
    after = row_counts()
    decode_ms, write_ms, backend_ms = (1000 * value / pushes for value in (decode_cpu, write_cpu, backend_cpu))
    print(f"groups of {group_size} pushes ({pushes} pushes of one sample, {len(keys)} hosts, {rounds} rounds):")
    print(f"  hub CPU, ingest_group: {write_ms:.3f} ms/push = {write_ms / decode_ms:.1f} x decoding the push")
    print(f"  PostgreSQL backend CPU: {backend_ms:.3f} ms/push = {backend_ms / decode_ms:.1f} x decoding the push")
    print(f"  baseline, decoding the push (msgspec): {decode_ms:.3f} ms/push")
    rows = {name: (after[name] - counted.get(name, 0)) / pushes for name in after if after[name] != counted.get(name)}
    print("  rows written per sample: " + ", ".join(f"{name} {count:.2f}" for name, count in sorted(rows.items())))


def _redated(body: bytes, taken: datetime) -> bytes:
    """An encoded sample with its timestamp replaced."""
    from monitoring.wire import decode_sample, encode_sample

    sample = copy.copy(decode_sample(body))
    sample.timestamp = taken
    return encode_sample(sample)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=128, help="hosts per group size (a multiple of the sizes)")
    parser.add_argument("--rounds", type=int, default=20, help="timed samples of each host")
    parser.add_argument("--groups", default="16,64", help="pushes per group, comma-separated")
    parser.add_argument("--database-url", default=SERVER_URL, help="a PostgreSQL server (its `postgres` database)")
    args = parser.parse_args()

    from monitoring.wire import encode_sample
    from storage.database import db
    from storage.schema import init_database

    cool, hot = encode_sample(full_sample(False)), encode_sample(full_sample(True))  # type: ignore[arg-type]
    url = fresh_database(args.database_url)
    try:
        init_database(url)
        db.dispose()
        for group_size in (int(part) for part in args.groups.split(",") if part):
            keys = add_hosts(url, args.hosts, f"writer{group_size}-")
            encoded = [hot if index % 10 == 0 else cool for index in range(args.hosts)]
            db.configure(url)
            measure(url, keys, encoded, group_size, args.rounds)
            db.dispose()
    finally:
        db.dispose()
        drop_database(args.database_url, url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
