"""The hub's ingest on PostgreSQL: how many full samples a second it stores, grades and moves through incidents,
with p99 latency; and how long the backlog of a one-hour outage takes to arrive. Goals: at least 1,000 samples/s
on this 2-core machine (30,000 hosts at 30 s), a one-hour backlog replayed in under 10 s.

Each simulated host sends what an agent of an 8-core machine with 3 mounts, 2 interfaces and 1 GPU sends (this
machine's real sample, widened to that shape), one sample per push as at a 30 s interval; one host in ten is over
its CPU CRITICAL level, so incidents are held open and graded on every sample. wrk drives the pushes (a Lua script
numbers each host's samples), against `main.py serve` on a fresh PostgreSQL database; the baseline in the same
run is GET /monitoring/thresholds of the same server (routing, one worker thread, no database): the ratio says
what a push costs over the HTTP floor. With --hubs 2 two hub processes share the database, as behind a load
balancer, each driven by its own wrk with half the connections. Also printed: the CPU the hub process(es) and the
database's backends spent per stored sample, the figure that decides the rate once the machine's cores are busy.

Replay: the hub was away for an hour; each of --replay-hosts agents has 120 samples (30 s apart) waiting and
sends them as its agent does, oldest first in batches (gzip). Timed from the first push to the last answer.

    python benchmarks/bench_fleet_ingest.py [--hosts 1000] [--seconds 20] [--connections 64] [--hubs 1]
                                            [--replay-hosts 1,100] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]  # the project, as from its root; this folder is already first (common.py)
from common import free_port, wait_until_up  # noqa: E402
from http_load import Load, with_wrk  # noqa: E402

TARGET_SAMPLES_PER_SECOND, TARGET_REPLAY_SECONDS = 1000.0, 10.0
SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432"
BACKLOG_SAMPLES, BACKLOG_BATCH = 120, 500  # an hour at 30 s; AGENT_BATCH_SIZE's default
FLOOR = "/monitoring/thresholds"

# wrk's Lua: each thread owns the hosts h with h % threads == its id and pushes to them in turn, numbering each
# host's samples; the sample's timestamp is the push's second.
PUSH_SCRIPT = r"""
local hosts, threads, id, counter, seqs = HOSTS, THREADS, 0, 0, {}
local head, tail = HEAD, TAIL
local keys = dofile(KEYS)
function setup(thread) thread:set("id", NEXT_ID()) end
NEXT = 0
function NEXT_ID() NEXT = NEXT + 1; return NEXT - 1 end
function init(args) id = wrk.thread:get("id") end
function request()
  local host = id + threads * (counter % math.floor(hosts / threads))
  counter = counter + 1
  local seq = (seqs[host] or 0) + 1
  seqs[host] = seq
  local now = os.time()
  local stamp = os.date("!%Y-%m-%dT%H:%M:%S", now)
  local body = string.format('{"outbox_id":"%032x","fingerprint":"bench-%d","agent_version":"bench","sent_at":%d,'
    .. '"interval_seconds":30,"gaps":[],"samples":[{"seq":%d,"collected_at":%d,"sample":%s%s.000000Z%s}]}',
    host, host, now, seq, now, head, stamp, tail)
  return wrk.format("POST", "/api/v1/ingest",
    {["Authorization"] = "Bearer " .. keys[host + 1], ["Content-Type"] = "application/json"}, body)
end
"""


def full_sample(hot: bool) -> object:
    """This machine's sample in the shape of an 8-core host with 3 mounts, 2 interfaces and a GPU."""
    from config.settings import load_settings
    from monitoring.collectors.gpu import GpuReading, GpusReading
    from monitoring.snapshot import live_snapshot
    from pipeline.monitor import collect_sample

    settings = load_settings({"MONITOR_HOSTNAME": "bench"})
    before = live_snapshot(settings)
    time.sleep(0.3)
    sample = collect_sample(settings, before)
    cpu, disks, network = sample.cpu, sample.disks, sample.network
    assert cpu is not None and disks is not None and network is not None and disks.mounts and network.interfaces
    cpu.logical_count = 8
    cpu.core_times = (cpu.core_times * 8)[:8]
    cpu.core_percents = (cpu.core_percents * 8)[:8]
    cpu.percent = 97.0 if hot else 20.0
    disks.mounts = [
        dataclasses.replace(disks.mounts[0], mountpoint=mount, device=f"/dev/vd{letter}")
        for mount, letter in (("/", "a"), ("/data", "b"), ("/var/log", "c"))
    ]
    network.interfaces = [dataclasses.replace(network.interfaces[0], name=name) for name in ("eth0", "eth1")]
    sample.gpus = GpusReading(
        devices=[
            GpuReading(
                index=0,
                name="NVIDIA H200",
                uuid="GPU-6f1c2a3b-0000-4000-8000-000000000000",
                utilization_percent=42.0,
                memory_utilization_percent=30.0,
                memory_total_mib=143771.0,
                memory_used_mib=51200.0,
                temperature_celsius=55.0,
                power_draw_watts=310.0,
                power_limit_watts=700.0,
            )
        ]
    )
    return sample


def fresh_database(server_url: str) -> str:
    from sqlalchemy import create_engine, text

    name = f"bench_ingest_{os.getpid()}"
    engine = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return f"{server_url}/{name}"


def drop_database(server_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)"))
    engine.dispose()


def add_hosts(url: str, count: int, prefix: str) -> list[str]:
    """`count` hosts with fresh keys, inserted as `main.py hosts add` does (the key's sha256 only)."""
    from sqlalchemy import create_engine, insert

    from fleet.host_keys import key_hash, new_key
    from storage import tables

    keys = [new_key() for _ in range(count)]
    now = datetime.now(timezone.utc)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(tables.hosts),
            [
                {"name": f"{prefix}{index}", "key_hash": key_hash(key), "key_created_at": now, "created_at": now}
                for index, key in enumerate(keys)
            ],
        )
    engine.dispose()
    return keys


def database_backends(url: str) -> list[int]:
    """The pids of the PostgreSQL backends serving the benchmark's database (the hubs' pooled connections)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        pids = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).scalars()
        found = [int(pid) for pid in pids]
    engine.dispose()
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes have used so far (a process gone since counts nothing)."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def stored_samples(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        count = int(connection.execute(text("SELECT COUNT(*) FROM system_metrics")).scalar() or 0)
    engine.dispose()
    return count


def start_hub(workdir: Path, url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env_file = workdir / f"hub-{port}.env"
    env_file.write_text(
        f"DATABASE_URL={url}\nLOG_FILE=off\nLOG_LEVEL=WARNING\nAPI_PORT={port}\nAPI_TOKEN=bench-token-0123456789\n"
    )
    env = {**os.environ, "AUTOMATION_ENV_FILE": str(env_file)}
    process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "serve"], env=env)
    wait_until_up(f"http://127.0.0.1:{port}{FLOOR}", process)
    return process, port


def push_script(workdir: Path, keys: list[str], hosts: int, threads: int, encoded: bytes) -> Path:
    """The Lua script for one wrk, its hosts' keys in a file of their own."""
    keys_file = workdir / f"keys-{len(list(workdir.iterdir()))}.lua"
    keys_file.write_text("return {" + ",".join(f'"{key}"' for key in keys) + "}\n")
    text = encoded.decode()
    stamp = re.search(r'^\{"timestamp":"[^"]+?(\.\d+)?Z"', text)
    assert stamp is not None, text[:80]
    head, tail = '{"timestamp":"', '"' + text[stamp.end() :]
    script = (
        PUSH_SCRIPT.replace("HOSTS,", f"{hosts},", 1)
        .replace("THREADS,", f"{threads},", 1)
        .replace("HEAD,", _lua_string(head) + ",", 1)
        .replace("TAIL", _lua_string(tail), 1)
        .replace("KEYS", _lua_string(str(keys_file)), 1)
    )
    path = workdir / f"push-{len(list(workdir.iterdir()))}.lua"
    path.write_text(script)
    return path


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def drive(ports: list[int], scripts: list[Path], seconds: float, connections: int) -> list[Load]:
    """One wrk per hub at once; the loads they measured."""
    with ThreadPoolExecutor(len(ports)) as pool:
        futures = [
            pool.submit(with_wrk, f"http://127.0.0.1:{port}/api/v1/ingest", seconds, connections, script)
            for port, script in zip(ports, scripts, strict=True)
        ]
        return [future.result() for future in futures]


def replay(port: int, keys: list[str], sample: object) -> float:
    """Seconds for every agent's one-hour backlog to be acknowledged, each agent pushing its own in batches."""
    from monitoring.wire import batch_body, encode_sample

    start = datetime.now(timezone.utc) - timedelta(hours=1)
    bodies = []
    for index, key in enumerate(keys):
        entries = []
        for number in range(BACKLOG_SAMPLES):
            taken = start + timedelta(seconds=30 * number)
            copied = copy.copy(sample)
            copied.timestamp = taken  # type: ignore[attr-defined]
            entries.append((number + 1, taken.timestamp(), encode_sample(copied)))  # type: ignore[arg-type]
        for first in range(0, len(entries), BACKLOG_BATCH):
            chunk = entries[first : first + BACKLOG_BATCH]
            body = batch_body(f"{index:032x}", f"replay-{index}", "bench", time.time(), 30.0, chunk, [])
            bodies.append((key, gzip.compress(body)))

    def send(key: str, body: bytes) -> None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/ingest",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            response.read()

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda pair: send(*pair), bodies))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    # Pushes in flight at once, in all (split between the hubs): by Little's law 1,000 pushes/s answered in 64 ms
    # each keep 64 in flight, which is what 30,000 agents at 30 s do to a hub; fewer keep the hub waiting for work.
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--hubs", type=int, default=1)
    parser.add_argument("--replay-hosts", default="1,100")
    parser.add_argument("--database-url", default=SERVER_URL, help="a PostgreSQL server (its `postgres` database)")
    args = parser.parse_args()

    from monitoring.wire import encode_sample

    sample_cool, sample_hot = full_sample(False), full_sample(True)
    url = fresh_database(args.database_url)
    hubs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as folder:  # the hubs' .env files: kept until the hubs have stopped
        try:
            workdir = Path(folder)
            subprocess.run(
                [sys.executable, str(ROOT / "main.py"), "db", "init"],
                env={**os.environ, "DATABASE_URL": url, "LOG_FILE": "off"},
                check=True,
                capture_output=True,
            )
            ports = []
            for _ in range(args.hubs):
                process, port = start_hub(workdir, url)
                hubs.append(process)
                ports.append(port)
            keys = add_hosts(url, args.hosts, "bench-")
            threads = 2
            scripts = []
            per_hub = args.hosts // args.hubs
            for hub in range(args.hubs):
                hub_keys = keys[hub * per_hub : (hub + 1) * per_hub]
                encoded = encode_sample(sample_hot if hub % 2 else sample_cool)  # type: ignore[arg-type]
                scripts.append(push_script(workdir, hub_keys, len(hub_keys), threads, encoded))
            print(f"hub ingest: {args.hosts} hosts, {args.hubs} hub process(es) on one PostgreSQL, ", end="")
            per_hub_connections = max(args.connections // args.hubs, 2)
            print(f"{per_hub_connections} connections per hub, {args.seconds:g} s")
            floor = with_wrk(f"http://127.0.0.1:{ports[0]}{FLOOR}", args.seconds, per_hub_connections)
            before = stored_samples(url)
            hub_pids, backend_pids = [process.pid for process in hubs], database_backends(url)
            hub_cpu, backend_cpu = cpu_seconds(hub_pids), cpu_seconds(backend_pids)
            started = time.perf_counter()
            loads = drive(ports, scripts, args.seconds, per_hub_connections)
            elapsed = time.perf_counter() - started
            hub_cpu, backend_cpu = cpu_seconds(hub_pids) - hub_cpu, cpu_seconds(backend_pids) - backend_cpu
            stored = stored_samples(url) - before
            errors = sum(load.errors for load in loads)
            rate = stored / elapsed
            p99 = max(load.p99_ms for load in loads)
            p50 = max(load.p50_ms for load in loads)
            print(
                f"  pushes answered: {sum(load.requests for load in loads)}, errors {errors}, samples stored {stored}"
            )
            print(
                f"  ingest: {rate:,.0f} samples/s (goal >= {TARGET_SAMPLES_PER_SECOND:,.0f}), "
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
            )
            print(
                f"  CPU per sample: hub process(es) {1000 * hub_cpu / stored:.2f} ms, PostgreSQL backends "
                f"{1000 * backend_cpu / stored:.2f} ms ({100 * (hub_cpu + backend_cpu) / elapsed:.0f}% of a core "
                f"together, of the machine's {os.cpu_count()})"
            )
            print(
                f"  baseline GET {FLOOR}: {floor.requests_per_second:,.0f} req/s, p99 {floor.p99_ms:.1f} ms; ", end=""
            )
            print(f"ingest / baseline = {rate / floor.requests_per_second:.2f}")
            for count in (int(part) for part in args.replay_hosts.split(",") if part):
                replay_keys = add_hosts(url, count, f"replay{count}-")
                seconds = replay(ports[0], replay_keys, sample_cool)
                total = count * BACKLOG_SAMPLES
                print(
                    f"replay of a one-hour backlog: {count} agent(s) x {BACKLOG_SAMPLES} samples = {total} in "
                    f"{seconds:.2f} s ({total / seconds:,.0f} samples/s; goal < {TARGET_REPLAY_SECONDS:g} s per agent)"
                )
        finally:
            for process in hubs:
                process.terminate()
                process.wait(timeout=60)
            drop_database(args.database_url, url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
