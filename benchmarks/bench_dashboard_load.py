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
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import free_port, wait_until_up
from http_load import BASELINE_APP, Load, load_driver, median_load

ROOT = Path(__file__).resolve().parent.parent
TARGET_RPS, TARGET_P99_MS = 500.0, 50.0
ROUTES = ("/monitoring/metrics/latest", "/monitoring/metrics/current")
BASELINE = "bare uvicorn app (baseline)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    drive = load_driver()
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
        bare = subprocess.Popen([sys.executable, "-c", BASELINE_APP, str(bare_port)])
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
