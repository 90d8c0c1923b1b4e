"""The agent's HTTP client for the hub's ingest route (POST /api/v1/ingest): one kept-alive connection
(urllib3), TLS verified by default (the system's CAs, or AGENT_CA_FILE), the body gzip-compressed, the host key
as a Bearer token. It never retries by itself: the caller decides when to try again from the outcome."""

from __future__ import annotations

import gzip
import json
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import NamedTuple

import urllib3

INGEST_PATH = "/api/v1/ingest"
CONNECT_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 60.0  # a large backlog batch is graded and stored before the hub answers
GZIP_LEVEL = 6  # JSON samples shrink about tenfold; higher levels cost CPU for a few percent


class PushOutcome(NamedTuple):
    """What the hub said to one push. `status` None: no answer (connection refused, timeout, TLS failure)."""

    status: int | None
    detail: str  # the hub's {"detail": ...} or the connection error, one line
    retry_after_seconds: float | None = None

    @property
    def accepted(self) -> bool:
        return self.status == 200

    @property
    def retryable(self) -> bool:
        """Worth trying again soon: no answer, 429 or a server error. Other 4xx will not clear by themselves."""
        return self.status is None or self.status == 429 or self.status >= 500


class HubClient:
    def __init__(self, hub_url: str, host_key: str, ca_file: Path | None) -> None:
        self.url = hub_url + INGEST_PATH
        self._headers = {
            "Authorization": f"Bearer {host_key}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        self._pool = urllib3.PoolManager(
            num_pools=1,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=str(ca_file) if ca_file is not None else None,
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS),
            retries=False,
        )

    def push(self, body: bytes) -> PushOutcome:
        """POST one batch (wire.batch_body bytes); never raises for a network failure."""
        try:
            response = self._pool.request(
                "POST", self.url, body=gzip.compress(body, GZIP_LEVEL), headers=self._headers, preload_content=True
            )
        except (urllib3.exceptions.HTTPError, OSError) as error:
            return PushOutcome(None, _error_line(error))
        detail = "" if response.status == 200 else _detail(response.data, response.status)
        return PushOutcome(response.status, detail, _retry_after_seconds(response.headers.get("Retry-After")))

    def close(self) -> None:
        self._pool.clear()


def _detail(body: bytes, status: int) -> str:
    """The hub's one-line {"detail": ...}, or the start of whatever else answered (a proxy's HTML page)."""
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        detail = None
    if not isinstance(detail, str):
        detail = body[:200].decode("utf-8", "replace") if body else f"HTTP {status}"
    return " ".join(detail.split())


def _error_line(error: Exception) -> str:
    reason = getattr(error, "reason", None)  # MaxRetryError and friends wrap the cause
    return " ".join(f"{type(error).__name__}: {reason or error}".split())


def _retry_after_seconds(raw: str | None) -> float | None:
    """Retry-After as seconds or as an HTTP date."""
    if not raw:
        return None
    text = raw.strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None
