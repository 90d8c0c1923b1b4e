"""Pushing to a real hub as an agent does: a real sample of this machine re-dated and encoded as the outbox
holds it, batches in the wire format, gzip, the host key; and `main.py hosts add` for the key."""

from __future__ import annotations

import functools
import gzip
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from monitoring.collectors.containers import ContainerReading, ContainersReading
from monitoring.sample import Sample
from monitoring.snapshot import live_snapshot
from monitoring.wire import batch_body, encode_sample
from pipeline.monitor import collect_sample
from tests.api_server import Reply, Server, main_py

OUTBOX_ID = "00112233445566778899aabbccddeeff"
FINGERPRINT = "f" * 64


@functools.cache
def collected_sample() -> Sample:
    """One real sample of this machine, collected once per test process."""
    from config.settings import load_settings

    settings = load_settings({"MONITOR_HOSTNAME": "collector"})
    before = live_snapshot(settings)
    time.sleep(0.2)
    sample = collect_sample(settings, before)
    sample.containers = ContainersReading(engine="docker", containers=[PUSHED_CONTAINER])  # as a Docker host's
    return sample


# A container as an agent on a Docker host pushes it: running, failing its health check.
PUSHED_CONTAINER = ContainerReading(
    id="4f" * 32,
    name="web",
    image="nginx:1.27",
    state="running",
    engine="docker",
    health="unhealthy",
    restart_count=0,
    oom_killed=False,
    started_at="2026-11-30T10:00:00.123456789Z",
    cpu_cores=0.5,
    cpu_host_percent=25.0,
    memory_used_bytes=50 * 2**20,
    memory_limit_bytes=100 * 2**20,
    memory_percent=50.0,
    pids=3,
    restarts_in_window=0,
    gone=0,
)


def sample_at(collected: Sample, taken_at: datetime, cpu_percent: float) -> bytes:
    """The collected sample re-dated and with its CPU figure set, encoded as an agent's outbox holds it."""
    assert collected.cpu is not None
    collected.timestamp, collected.cpu.percent = taken_at, cpu_percent
    return encode_sample(collected)


def batch(samples: list[tuple[int, bytes]], sent_at: float | None = None, **changes: Any) -> bytes:
    body = batch_body(
        changes.get("outbox_id", OUTBOX_ID),
        changes.get("fingerprint", FINGERPRINT),
        "0.1.0",
        time.time() if sent_at is None else sent_at,
        30.0,
        [(seq, time.time(), body) for seq, body in samples],
        changes.get("gaps", []),
    )
    return body


def push(server: Server, key: str | None, body: bytes, compress: bool = True, **headers: str) -> Reply:
    sent = {"Content-Type": "application/json", **headers}
    if compress:
        body, sent["Content-Encoding"] = gzip.compress(body), "gzip"
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(server.base_url + "/api/v1/ingest", data=body, method="POST", headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


def add_host(server: Server, name: str) -> str:
    return main_py(server.env, "hosts", "add", name).stdout.strip()
