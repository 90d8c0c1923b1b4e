"""The dashboard as a real server for tests: `python main.py serve` on a free loopback port over a database of
the test's own, and plain HTTP requests to it (urllib: what any client does, no test client in between).

Test modules import the helpers; PYTEST_DONT_REWRITE: the asserts here carry their own messages.
"""

from __future__ import annotations

import json
import math
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert
from sqlalchemy.pool import NullPool

from tests.conftest import MAIN, clean_environ

TOKEN = "test-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class Server:
    base_url: str
    env: dict[str, str]
    log: Path
    pid: int  # the server's process, e.g. to read its memory in /proc/<pid>/status
    tls: ssl.SSLContext | None = None  # HTTPS: the context that trusts the server's certificate

    def request(
        self, method: str, path: str, body: Any = None, token: str | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        sent = {**(headers or {}), **({"Content-Type": "application/json"} if data is not None else {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=60, context=self.tls) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    def get(self, path: str, **options: Any) -> Reply:
        return self.request("GET", path, **options)

    def ok(self, path: str, **options: Any) -> Any:
        """GET that must answer 200 with JSON."""
        reply = self.get(path, **options)
        assert reply.status == 200, f"GET {path}: {reply.status} {reply.text[:500]}"
        return reply.json()


def environ(tmp: Path, database_url: str, **settings: str) -> dict[str, str]:
    env_file = tmp / "dashboard.env"
    values = {
        "DATABASE_URL": database_url,
        "LOG_FILE": str(tmp / "automation.log"),
        "SCHEDULER_TIMEZONE": "UTC",
        "JOBS_ALLOWED_DIRS": str(tmp),  # the tests' job scripts live there
        **settings,
    }
    env_file.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return {**clean_environ(), "AUTOMATION_ENV_FILE": str(env_file), "PYTHONUNBUFFERED": "1"}


def main_py(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, str(MAIN), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"main.py {' '.join(args)} exited {result.returncode}: {result.stderr}"
    return result


def wait_until_serving(
    process: subprocess.Popen, base_url: str, log: Path, timeout: float = 60, tls: ssl.SSLContext | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited {process.returncode}: {log.read_text()}"
        try:
            with urllib.request.urlopen(base_url + "/openapi.json", timeout=5, context=tls):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError(f"the server did not answer within {timeout} s: {log.read_text()}")


@contextmanager
def serving(
    tmp: Path, database_url: str, command: str = "serve", tls: ssl.SSLContext | None = None, **settings: str
) -> Iterator[Server]:
    """`python main.py serve` (or run) until the block ends; SIGTERM then, and it must exit 0. With `tls` (and
    API_TLS_* in the settings) it is spoken to over HTTPS, trusting what the context trusts."""
    port = free_port()
    env = environ(tmp, database_url, API_PORT=str(port), **settings)
    log = tmp / f"{command}-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, str(MAIN), command], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        base_url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        wait_until_serving(process, base_url, log, tls=tls)
        yield Server(base_url, env, log, process.pid, tls)
    finally:
        if process.poll() is None:
            process.terminate()
        code = process.wait(timeout=60)
    assert code == 0, f"the server exited {code}: {log.read_text()}"


def insert_rows(database_url: str, table_name: str, rows: list[dict[str, Any]]) -> None:
    """Rows of a storage.tables table written as the monitor writes them (Core), in one transaction."""
    from storage import tables

    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(insert(tables.metadata.tables[table_name]), rows)
    finally:
        engine.dispose()


def minute_samples(hostname: str, start: datetime, count: int, every_seconds: float = 60) -> list[dict[str, Any]]:
    """Rows whose values vary (so averages and maxima differ) and are easy to recompute in a test."""
    return [
        {
            "timestamp": start + timedelta(seconds=index * every_seconds),
            "hostname": hostname,
            "platform": "linux",
            "cpu_percent": float((index * 37) % 101),
            "memory_percent": 40 + (index % 7) * 0.5,
            "disk_percent": 60.0 + index / 1000,
            "load_1m": (index % 13) / 4,
            "cpu_count": 4,
            "network_recv_bytes_per_second": None if index % 5 == 0 else float(index * 10),
        }
        for index in range(count)
    ]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def assert_buckets(
    items: list[dict[str, Any]], rows: list[dict[str, Any]], start: datetime, end: datetime, step: int
) -> None:
    """Downsampled `items` (newest first) against the documented bucketing recomputed over `rows`: whole-second
    Unix time t goes to bucket (t - floor(start)) // step; avg and max per column, None when no row has a value."""
    origin = math.floor(start.timestamp())
    grouped: dict[datetime, list[dict[str, Any]]] = {}
    for row in rows:
        if start <= row["timestamp"] <= end:
            index = (math.floor(row["timestamp"].timestamp()) - origin) // step
            grouped.setdefault(datetime.fromtimestamp(origin + index * step, timezone.utc), []).append(row)
    got = {utc(item["time"]): item for item in items}
    assert list(got) == sorted(got, reverse=True), "newest bucket first"
    assert set(got) == set(grouped), (sorted(got), sorted(grouped))
    for moment, members in grouped.items():
        item = got[moment]
        assert item["samples"] == len(members) and item["hostname"] == members[0]["hostname"], moment
        for column in ("cpu_percent", "memory_percent", "load_1m", "network_recv_bytes_per_second"):
            values = [member[column] for member in members if member[column] is not None]
            assert item[column]["max"] == (max(values) if values else None), (moment, column)
            if values:
                assert abs(item[column]["avg"] - sum(values) / len(values)) < 1e-9, (moment, column)
            else:
                assert item[column]["avg"] is None, (moment, column)
