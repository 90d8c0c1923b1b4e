"""A plain HTTP/1.1 client for a container engine's API on its unix socket (stdlib http.client, no SDK), and where
that socket is.

Docker and Podman both answer Docker's API there; which one answered is told by the reply's headers (Podman adds
Libpod-Api-Version), so finding out costs no request of its own.
"""

from __future__ import annotations

import http.client
import os
import socket
from collections.abc import Mapping
from typing import Any

import msgspec

# Where engines put their socket when nobody says otherwise, in the order they are tried (Docker's, then Podman's
# rootful and rootless ones; the last is filled in from XDG_RUNTIME_DIR).
DEFAULT_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock", "/run/podman/podman.sock")
DEFAULT_TIMEOUT_SECONDS = 2.0


class EngineUnavailable(Exception):
    """No engine answers on the socket (missing, refused, not allowed): the host has no containers to report."""


class EngineError(Exception):
    """The engine answered, but not as asked (an error status, a body that is not JSON, a timeout)."""


def socket_candidates(configured: str | None, environ: Mapping[str, str]) -> list[str]:
    """The sockets to try, in order: CONTAINER_ENGINE_SOCKET alone when set, else DOCKER_HOST when it is a unix://
    address, else the usual paths."""
    if configured:
        return [configured]
    docker_host = environ.get("DOCKER_HOST", "").strip()
    if docker_host.startswith("unix://"):
        return [docker_host.removeprefix("unix://")]
    runtime_dir = environ.get("XDG_RUNTIME_DIR")
    return [*DEFAULT_SOCKETS, *([f"{runtime_dir}/podman/podman.sock"] if runtime_dir else [])]


def find_socket(configured: str | None, environ: Mapping[str, str]) -> str | None:
    """The first candidate socket that exists, or None."""
    return next((path for path in socket_candidates(configured, environ) if os.path.exists(path)), None)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class EngineClient:
    """One keep-alive connection to the engine; `engine` is "docker" or "podman" once it has answered."""

    def __init__(self, socket_path: str, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.socket_path = socket_path
        self.timeout_seconds = timeout_seconds
        self.engine: str | None = None
        self._connection: _UnixConnection | None = None

    def get(self, path: str, into: Any = Any) -> Any:
        """GET `path` and decode its JSON body as `into` (a msgspec type: fields not named are skipped unread)."""
        body = self.get_bytes(path)
        try:
            return msgspec.json.decode(body, type=into)
        except msgspec.DecodeError as error:
            raise EngineError(f"GET {path}: {error}") from None

    def get_bytes(self, path: str) -> bytes:
        connection = self._connection or _UnixConnection(self.socket_path, self.timeout_seconds)
        self._connection = None
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
        except (FileNotFoundError, ConnectionRefusedError, PermissionError) as error:
            connection.close()
            raise EngineUnavailable(f"{self.socket_path}: {error.strerror or error}") from None
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise EngineError(f"GET {path}: {type(error).__name__}: {error}") from None
        if self.engine is None:
            self.engine = "podman" if response.getheader("Libpod-Api-Version") else "docker"
        if response.will_close:
            connection.close()
        else:
            self._connection = connection
        if response.status != 200:
            raise EngineError(f"GET {path}: HTTP {response.status} {body[:200].decode(errors='replace').strip()}")
        return body

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
