"""Serving the dashboard with uvicorn on a thread of its own, beside the scheduler or alone.

The socket is bound here, before the thread starts, so "address in use" is one line for the user instead of
uvicorn's exit inside a thread; signals stay with the main thread, whose handler stops everything.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import time

import uvicorn

from config.dashboard_settings import DashboardSettings
from config.settings import Settings
from dashboard.http_protocol import LimitedHttpToolsProtocol

STARTUP_TIMEOUT_SECONDS = 60.0
log = logging.getLogger("automation.dashboard")


class DashboardError(RuntimeError):
    """The dashboard cannot start; str() is one line for the user."""


def check_exposure(settings: DashboardSettings) -> None:
    """Listening beyond this machine without a token would let anyone on the network read (and try) it."""
    if not settings.loopback_only and settings.token is None:
        raise DashboardError(
            f"API_HOST={settings.host} is reachable from other machines and API_TOKEN is not set; "
            f"set API_TOKEN in .env or listen on 127.0.0.1"
        )


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on host:port. Created with IPPROTO_TCP (not socket.create_server's protocol 0):
    asyncio sets TCP_NODELAY only on connections of such sockets, and without it Nagle's algorithm and delayed
    ACKs hold responses back for up to 40 ms."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name == "posix":  # on Windows SO_REUSEADDR would let another process take the port
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    return listener


# Allocations between two young-generation collections (Python's default: 700).
GC_YOUNG_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """A hub turns every push into thousands of short-lived objects (figures, rows, measurements) that hold no
    cycles: at Python's default threshold the collector runs every few hundred of them, and each older-generation
    pass walks the hundreds of thousands of objects the imports made (SQLAlchemy, FastAPI, the catalogue). Those
    are frozen out of its view once the application is built, and it runs about 70 times less often: 8 to 18 %
    less hub CPU per push in paired runs (README, "Ingest: what it costs"). Cycles still go, a little later."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, oldest)


class DashboardServer:
    def __init__(self, settings: Settings) -> None:
        from dashboard.app import create_app

        dashboard = settings.dashboard
        check_exposure(dashboard)
        try:
            self._socket = listening_socket(dashboard.host, dashboard.port)
        except OSError as error:
            raise DashboardError(
                f"cannot listen on {dashboard.host}:{dashboard.port}: {error.strerror or error} (API_HOST, API_PORT)"
            ) from None
        config = uvicorn.Config(
            create_app(settings),
            http=LimitedHttpToolsProtocol,  # 414/431 for an oversized request head, answered before closing
            loop="auto",  # uvloop where installed (not on Windows), else asyncio
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
            server_header=False,
            ssl_certfile=dashboard.tls_cert_file,
            ssl_keyfile=dashboard.tls_key_file,
        )
        self._server = uvicorn.Server(config)
        tune_garbage_collector()
        self._thread = threading.Thread(target=self._serve, name="dashboard", daemon=True)
        scheme, host = "https" if dashboard.tls_cert_file else "http", dashboard.host
        self.address = f"{scheme}://{host if ':' not in host else f'[{host}]'}:{self._socket.getsockname()[1]}"

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException:
            log.exception("the dashboard server stopped")

    def start(self) -> None:
        """Serve, returning once requests are answered (or raising DashboardError if start-up failed)."""
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while self._thread.is_alive() and not self._server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self._server.started:
            raise DashboardError("the dashboard server failed to start (see the log)")
        log.info("Dashboard serving on %s", self.address)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Ask the server to finish (safe from a signal handler)."""
        self._server.should_exit = True

    def join(self) -> None:
        self._thread.join()
        self._socket.close()
