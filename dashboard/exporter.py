"""`python main.py exporter`: GET /metrics alone on a port of its own (the seed's `--port`, 9100 by default), for
a Prometheus that scrapes this machine as it would scrape node_exporter, with or without the dashboard.

It serves what the dashboard's /metrics serves (dashboard.prometheus): this host's live figures and the database's
newest sample of every other host. prometheus_client's WSGI application writes the exposition (gzip and
OpenMetrics when asked for), a thread per request; any other path is a 404. The database is only read (its
schema is never created or upgraded: `db init` does that); without it the live figures are still served, with
automation_database_up 0.

It listens on 127.0.0.1 unless --host says otherwise. From another machine /metrics is readable by whoever
reaches the port, so a --host beyond loopback is refused unless reads need the token (API_READ_AUTH=true and
API_TOKEN, as on the dashboard's /metrics) or --public says that anyone may read it.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from config.dashboard_settings import DashboardSettings
from config.settings import Settings
from dashboard.dependencies import bearer_matches
from dashboard.live_sample import LiveSampler
from dashboard.prometheus import metrics_registry
from storage import db

log = logging.getLogger("automation.exporter")
METRICS_PATH = "/metrics"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ExporterError(RuntimeError):
    """The exporter cannot start; str() is one line for the user."""


def check_exposure(listen: DashboardSettings, public: bool) -> None:
    """Refuse a listener reachable from other machines whose /metrics anyone could read, unless --public."""
    if not listen.loopback_only and not (listen.read_auth and listen.token) and not public:
        raise ExporterError(
            f"--host {listen.host} is reachable from other machines and /metrics would be readable by anyone; "
            f"set API_READ_AUTH=true and API_TOKEN in .env (Prometheus then sends the token), pass --public, "
            f"or listen on 127.0.0.1"
        )


def _text(start_response: Callable[..., Any], status: str, text: str, *headers: tuple[str, str]) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), *headers])
    return [f"{text}\n".encode()]


def exporter_app(metrics: WSGIApp, token: str | None) -> WSGIApp:
    """`metrics` at /metrics (behind the token when one is given), 404 everywhere else; no Python version in the
    Server header (wsgiref's names it unless the response does)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("Server", "automation-exporter")], exc_info)

        if environ.get("PATH_INFO") != METRICS_PATH:
            return _text(respond, "404 Not Found", f"not found: this exporter serves {METRICS_PATH} only")
        if token is not None and not bearer_matches(environ.get("HTTP_AUTHORIZATION", ""), token):
            return _text(
                respond,
                "401 Unauthorized",
                "missing or wrong token: send 'Authorization: Bearer <API_TOKEN>'",
                ("WWW-Authenticate", "Bearer"),
            )
        return metrics(environ, respond)

    return app


class _QuietHandler(WSGIRequestHandler):
    """No line on stderr per request: Prometheus scrapes every few seconds."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Exporter:
    def __init__(self, settings: Settings, host: str, port: int, public: bool) -> None:
        listen = settings.dashboard._replace(host=host, port=port)
        check_exposure(listen, public)
        self._live = LiveSampler(settings)
        token = listen.token if listen.read_auth else None
        self._open_to_all = not listen.loopback_only and token is None
        app = exporter_app(make_wsgi_app(metrics_registry(self._live, settings.fleet)), token)

        class Server(ThreadingWSGIServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        try:
            self._server: WSGIServer = make_server(host, port, app, Server, handler_class=_QuietHandler)
        except OSError as error:
            raise ExporterError(f"cannot listen on {host}:{port}: {error.strerror or error} (--host, --port)") from None
        db.configure(settings.database_url, settings.database_busy_timeout_seconds)  # read at each scrape
        self.address = f"http://{host if ':' not in host else f'[{host}]'}:{port}{METRICS_PATH}"

    def serve_until(self, stop: threading.Event) -> bool:
        """Answer scrapes until `stop` is set (by SIGTERM or Ctrl-C); False if the server stopped on its own."""
        self._live.prime()
        thread = threading.Thread(target=self._server.serve_forever, name="exporter", daemon=True)
        thread.start()
        log.info("Exporter serving %s", self.address)
        if self._open_to_all:
            log.warning("--public: anyone who reaches %s reads it, without a token", self.address)
        while thread.is_alive() and not stop.wait(0.5):
            pass
        self._server.shutdown()
        self._server.server_close()
        return stop.is_set()
