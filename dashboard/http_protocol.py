"""uvicorn's h11 protocol with firm limits on a request's head, answered with a status instead of a dropped
connection.

Plain uvicorn parses any head that arrives in one read (256 KiB), refuses a longer one with a 400 and closes the
socket while the client is still sending: the kernel then resets the connection and the client never sees the
answer. Here a request line longer than MAX_REQUEST_LINE_BYTES is a 414 and a head longer than MAX_HEAD_BYTES a
431, however the bytes arrive (pipelined requests included); after such an answer the connection is half-closed
and what the client still sends is read and dropped for up to LINGER_SECONDS, so the answer reaches it.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_REQUEST_LINE_BYTES = 8 * 1024  # method, path and query string; Apache's and nginx's limit too
MAX_HEAD_BYTES = 64 * 1024  # the request line and every header
LINGER_SECONDS = 5.0
_HEAD_END = re.compile(rb"\n\r?\n")  # h11 accepts a bare LF as well as CRLF
_REASONS = {
    414: f"request line (method, path and query string) longer than {MAX_REQUEST_LINE_BYTES} bytes",
    431: f"request line and headers longer than {MAX_HEAD_BYTES} bytes",
}


def head_refusal(buffered: bytes) -> int | None:
    """414 or 431 if the start of `buffered` (the bytes of a request not yet parsed) exceeds a limit, or None."""
    if buffered.find(b"\n", 0, MAX_REQUEST_LINE_BYTES + 2) == -1 and len(buffered) > MAX_REQUEST_LINE_BYTES + 1:
        return 414
    if _HEAD_END.search(buffered, 0, MAX_HEAD_BYTES + 3) is None and len(buffered) > MAX_HEAD_BYTES:
        return 431
    return None


class LimitedConnection(h11.Connection):
    """An h11 server connection that checks each request's head before parsing it and remembers the status an
    error calls for."""

    def __init__(self) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        self.error_status = 400

    def next_event(self) -> Any:
        if self.their_state is h11.IDLE:
            status = head_refusal(self.trailing_data[0])
            if status is not None:
                self.error_status = status
                raise h11.RemoteProtocolError(_REASONS[status], error_status_hint=status)
        try:
            return super().next_event()
        except h11.RemoteProtocolError as error:
            self.error_status = error.error_status_hint
            raise


class LimitedH11Protocol(H11Protocol):
    """H11Protocol whose refusals of malformed or oversized requests carry their status and reach the client."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limited_conn = LimitedConnection()
        self.conn = self.limited_conn
        self._lingering = False

    def data_received(self, data: bytes) -> None:
        if not self._lingering:
            super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        status = self.limited_conn.error_status
        body = json.dumps({"detail": _REASONS.get(status, msg)}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        response = h11.Response(status_code=status, headers=headers, reason=HTTPStatus(status).phrase)
        for event in (response, h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event) or b"")
        self._lingering = True
        self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
