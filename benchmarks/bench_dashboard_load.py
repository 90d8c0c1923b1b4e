"""The dashboard under load: /monitoring/metrics/latest and /monitoring/metrics/current with 32 concurrent
connections on loopback. Targets: at least 500 requests/s, p99 at most 50 ms, no errors.

Starts `python main.py serve` over a temporary SQLite database holding a few real monitor samples and drives it
with wrk (Debian package `wrk`; a Python load generator when wrk is missing). The baseline in the same run is a
bare uvicorn application answering a constant JSON body, driven the same way: the ceiling of one uvicorn
process on this machine, against which the routes' throughput is given as a ratio. The three are driven in turn
for several rounds and the medians reported, so one burst of another process's work does not decide a figure.

    python benchmarks/bench_dashboard_load.py [--seconds 10] [--rounds 3] [--connections 32]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

from common import free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
TARGET_RPS, TARGET_P99_MS = 500.0, 50.0
ROUTES = ("/monitoring/metrics/latest", "/monitoring/metrics/current")
BASELINE = "bare uvicorn app (baseline)"
BARE_APP = """
import sys, uvicorn
BODY = b'{"status":"ok"}'
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


class Load(NamedTuple):
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def median_load(loads: list[Load]) -> Load:
    """Median rate and latencies of the rounds; every error counts."""
    return Load(
        statistics.median(load.requests_per_second for load in loads),
        statistics.median(load.p50_ms for load in loads),
        statistics.median(load.p99_ms for load in loads),
        sum(load.errors for load in loads),
        sum(load.requests for load in loads),
    )


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def with_wrk(url: str, seconds: float, connections: int) -> Load:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)$", output, re.MULTILINE))
    p50, p99 = (re.match(r"([\d.]+)(\w+)", latency[key]).groups() for key in ("50", "99"))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = sum(int(count) for count in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return Load(rate, _milliseconds(*p50), _milliseconds(*p99), errors, requests)


def with_python(url: str, seconds: float, connections: int) -> Load:
    """32 threads, each with one keep-alive connection: the fallback when wrk is not installed."""
    host, port, path = re.match(r"http://([^:/]+):(\d+)(/.*)", url).groups()  # type: ignore[union-attr]
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection = http.client.HTTPConnection(host, int(port), timeout=30)
            latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)
    return Load(
        len(ordered) / seconds,
        statistics.median(ordered),
        ordered[int(len(ordered) * 0.99) - 1],
        errors[0],
        len(ordered),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    drive = with_wrk if shutil.which("wrk") else with_python
    rounds: dict[str, list[Load]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        env_file = Path(workdir) / ".env"
        port, bare_port = free_port(), free_port()
        env_file.write_text(
            f"DATABASE_URL=sqlite:///{workdir}/load.db\nLOG_FILE=off\nLOG_LEVEL=WARNING\nAPI_PORT={port}\n"
        )
        env = {**os.environ, "AUTOMATION_ENV_FILE": str(env_file)}
        for _ in range(3):
            subprocess.run([sys.executable, str(ROOT / "main.py"), "monitor", "--quiet"], env=env, check=True)
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare = subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port)])
        try:
            wait_until_up(f"http://127.0.0.1:{port}/monitoring/metrics/latest", server)
            wait_until_up(f"http://127.0.0.1:{bare_port}/", bare)
            for route in ROUTES:  # warm-up: imports, compiled statements, the first live sample
                drive(f"http://127.0.0.1:{port}{route}", 2, args.connections)
            targets = {
                BASELINE: f"http://127.0.0.1:{bare_port}/",
                **{route: f"http://127.0.0.1:{port}{route}" for route in ROUTES},
            }
            for _ in range(args.rounds):
                for name, url in targets.items():
                    rounds.setdefault(name, []).append(drive(url, args.seconds, args.connections))
        finally:
            for process in (server, bare):
                process.terminate()
                process.wait(timeout=60)
    results = {name: median_load(loads) for name, loads in rounds.items()}
    baseline = results[BASELINE]
    print(
        f"load generator: {drive.__name__.removeprefix('with_')}, {args.connections} connections, "
        f"{args.seconds:g} s per route and round, medians of {args.rounds} rounds, loopback, "
        f"{os.cpu_count()} CPUs shared by client and server"
    )
    print(f"{'route':<34} {'req/s':>8} {'vs baseline':>11} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}")
    met = True
    for name, load in results.items():
        ratio = load.requests_per_second / baseline.requests_per_second
        print(
            f"{name:<34} {load.requests_per_second:>8.0f} {ratio:>11.2f} {load.p50_ms:>7.1f} {load.p99_ms:>7.1f} "
            f"{load.errors:>6}"
        )
        if name in ROUTES:
            met = met and load.requests_per_second >= TARGET_RPS and load.p99_ms <= TARGET_P99_MS and not load.errors
    print(
        f"targets: >= {TARGET_RPS:.0f} req/s, p99 <= {TARGET_P99_MS:.0f} ms, no errors: " + ("met" if met else "MISSED")
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
