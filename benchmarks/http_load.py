"""Driving a route with 32 keep-alive connections and reading its rate and latency percentiles: wrk (Debian
package `wrk`) when installed, else a Python load generator; and a bare uvicorn application, the ceiling of one
uvicorn process on the machine, for a baseline in the same run."""

from __future__ import annotations

import http.client
import re
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

BASELINE_APP = """
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


def with_wrk(url: str, seconds: float, connections: int, script: Path | None = None) -> Load:
    """wrk's figures for `url`; `script` is a Lua file that makes each request (a POST with its own body)."""
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--latency",
            *(["-s", str(script)] if script else []),
            url,
        ],
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


def load_driver() -> Callable[[str, float, int], Load]:
    """with_wrk where wrk is installed, else with_python."""
    return with_wrk if shutil.which("wrk") else with_python
