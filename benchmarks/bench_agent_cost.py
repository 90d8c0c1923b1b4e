"""The fleet agent's resident cost: CPU share of one core and memory of `python main.py agent run` at its default
interval (30 s), pushing to a real hub (`python main.py serve` on a free loopback port, a host added with
`main.py hosts add`), against a sleeping Python process (`python -c "import time; time.sleep(N)"`) measured the
same way in the same run.

CPU is user + system time from /proc/PID/stat over the window, after a start-up settle (imports, the baseline
read of the counters); memory is VmRSS from /proc/PID/status read every second (steady: the median; peak: the
highest). Targets: under 0.2 % of one core and under 35 MiB RSS. Linux only.

    python benchmarks/bench_agent_cost.py [--interval 30] [--duration 300]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path

from common import free_port

ROOT = Path(__file__).resolve().parent.parent
TARGET_CPU_PERCENT = 0.2
TARGET_RSS_MIB = 35.0
SETTLE_SECONDS = 5.0
HOST = "bench-agent"


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid`, from /proc/PID/stat (fields 14 and 15, after the parenthesised command name)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def start_hub(workdir: Path) -> tuple[subprocess.Popen, str, str, Path]:
    """A hub on a free port with one host; returns (process, its URL, the host's key, its database)."""
    port = free_port()
    database = workdir / "hub.db"
    env_file = workdir / "hub.env"
    env_file.write_text(f"DATABASE_URL=sqlite:///{database}\nLOG_FILE=off\nLOG_LEVEL=WARNING\nAPI_PORT={port}\n")
    env = {**os.environ, "AUTOMATION_ENV_FILE": str(env_file)}
    main = [sys.executable, str(ROOT / "main.py")]
    hub = subprocess.Popen([*main, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/openapi.json", timeout=5):
                break
        except (urllib.error.URLError, ConnectionError):
            if hub.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the hub did not start (exit code {hub.poll()})") from None
            time.sleep(0.2)
    added = subprocess.run([*main, "hosts", "add", HOST], env=env, capture_output=True, text=True, check=True)
    return hub, url, added.stdout.strip(), database


def start_agent(workdir: Path, hub_url: str, key: str, interval_seconds: float) -> subprocess.Popen:
    env_file = workdir / "agent.env"
    env_file.write_text(
        f"AGENT_HUB_URL={hub_url}\nAGENT_HOST_KEY={key}\nAGENT_INTERVAL={interval_seconds:g}\n"
        f"AGENT_OUTBOX={workdir / 'agent' / 'outbox.db'}\nLOG_LEVEL=WARNING\n"
    )
    env = {**os.environ, "AUTOMATION_ENV_FILE": str(env_file)}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "agent", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "agent.log", "wb"),
    )


def stored_samples(database: Path) -> int:
    with closing(sqlite3.connect(database, timeout=30)) as connection:
        return connection.execute("SELECT count(*) FROM system_metrics WHERE hostname = ?", (HOST,)).fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=30.0, help="AGENT_INTERVAL, seconds (default 30)")
    parser.add_argument("--duration", type=float, default=300.0, help="the measured window, seconds (default 300)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        hub, hub_url, key, database = start_hub(workdir)
        processes = {
            "agent": start_agent(workdir, hub_url, key, args.interval),
            "baseline (a sleeping Python process)": subprocess.Popen(
                [sys.executable, "-c", f"import time; time.sleep({SETTLE_SECONDS + args.duration + 60})"]
            ),
        }
        try:
            time.sleep(SETTLE_SECONDS)
            for name, process in processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {process.returncode}: see {workdir / 'agent.log'}")
            before = {name: cpu_seconds(process.pid) for name, process in processes.items()}
            rss: dict[str, list[float]] = {name: [] for name in processes}
            started = time.monotonic()
            while time.monotonic() - started < args.duration:
                for name, process in processes.items():
                    rss[name].append(rss_mib(process.pid))
                time.sleep(1.0)
            window = time.monotonic() - started
            percent = {
                name: 100.0 * (cpu_seconds(process.pid) - before[name]) / window for name, process in processes.items()
            }
            stored = stored_samples(database)
            agent_log = (workdir / "agent.log").read_text().strip()
        finally:
            for process in (*processes.values(), hub):
                process.terminate()
                process.wait(timeout=60)
    print(
        f"agent every {args.interval:g} s, window {window:.0f} s ({window / args.interval:.1f} intervals); "
        f"samples stored at the hub: {stored}"
    )
    if agent_log:
        print(f"agent log (warnings and worse):\n{agent_log}")
    for name in processes:
        print(
            f"{name}: {percent[name]:.3f} % of one core, RSS {statistics.median(rss[name]):.1f} MiB steady "
            f"(peak {max(rss[name]):.1f} MiB)"
        )
    agent_rss = statistics.median(rss["agent"])
    baseline = "baseline (a sleeping Python process)"
    cpu_ratio = (
        f"{percent['agent'] / percent[baseline]:.0f}x" if percent[baseline] > 0 else "n/a (the baseline used none)"
    )
    print(f"agent / baseline: CPU {cpu_ratio}, RSS {agent_rss / statistics.median(rss[baseline]):.1f}x")
    met = percent["agent"] < TARGET_CPU_PERCENT and max(rss["agent"]) < TARGET_RSS_MIB
    print(
        f"target (agent < {TARGET_CPU_PERCENT} % of a core and < {TARGET_RSS_MIB:g} MiB RSS): "
        + ("met" if met else "MISSED")
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
