"""uvicorn's httptools protocol with firm limits on a request's head, answered with a status instead of a dropped
connection.

Plain uvicorn hands httptools whatever arrives: the parser keeps a request line or a header value until it is
complete, however long, and a request it cannot parse is a 400 after which the socket is closed while the client
may still be sending, so the kernel resets the connection and the client never sees the answer. Here the raw bytes
of a request's head are counted as they arrive, before the parser sees them: a request line longer than
MAX_REQUEST_LINE_BYTES is a 414 and a head longer than MAX_HEAD_BYTES a 431, however the bytes are split. A
pipelined request whose head begins in the read that ends the request before it is counted from the next read on
and measured, once parsed, from its line and headers (the same sizes less optional whitespace); its refusal waits
for the responses before it. After a refusal (a 400 included) the connection is half-closed where the transport
allows (not under TLS) and what the client still sends is read and dropped for up to LINGER_SECONDS, so the answer
reaches it.
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_REQUEST_LINE_BYTES = 8 * 1024  # method, path and query string; Apache's and nginx's limit too
MAX_HEAD_BYTES = 64 * 1024  # the request line and every header
LINGER_SECONDS = 5.0
_HEAD_END = b"\r\n\r\n"  # llhttp accepts no bare LF
_REASONS = {
    414: f"request line (method, path and query string) longer than {MAX_REQUEST_LINE_BYTES} bytes",
    431: f"request line and headers longer than {MAX_HEAD_BYTES} bytes",
}


class HeadMeter:
    """The raw bytes of one request head as they arrive, in pieces of any size; keeps a count and the last three
    bytes, never the head."""

    __slots__ = ("line_open", "received_bytes", "tail")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.received_bytes = 0
        self.line_open = True  # no line end seen yet
        self.tail = b""

    def refusal(self, data: bytes) -> int | None:
        """414 or 431 once the head so far, `data` included, is past a limit; None while it may still be within.
        A request line is measured without its CRLF, a head without the CRLF CRLF that ends it."""
        start = self.received_bytes
        if self.line_open:
            if data.find(b"\n", 0, MAX_REQUEST_LINE_BYTES + 2 - start) != -1:
                self.line_open = False
            elif start + len(data) > MAX_REQUEST_LINE_BYTES + 1:
                return 414
        window = self.tail + data
        head_end_limit = MAX_HEAD_BYTES + len(_HEAD_END) - (start - len(self.tail))
        if window.find(_HEAD_END, 0, head_end_limit) == -1 and start + len(data) > MAX_HEAD_BYTES + 3:
            return 431
        self.received_bytes = start + len(data)
        self.tail = window[-3:]
        return None


def parsed_refusal(method: bytes, url: bytes, headers: list[tuple[bytes, bytes]]) -> int | None:
    """414 or 431 for a head measured from its parsed parts: `METHOD URL HTTP/1.1` and `name: value` lines."""
    line_bytes = len(method) + len(url) + len(" HTTP/1.1") + 1
    if line_bytes > MAX_REQUEST_LINE_BYTES:
        return 414
    if line_bytes + sum(2 + len(name) + 2 + len(value) for name, value in headers) > MAX_HEAD_BYTES:
        return 431
    return None


class _HeadRefused(Exception):
    """Raised from a parser callback to stop parsing a pipelined request refused once parsed."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with head limits, whose refusals (uvicorn's 400 included) carry a status and a JSON
    `detail` and reach the client."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._meter = HeadMeter()
        self._awaiting_head = True  # from the end of a request (or the connection's start) to the end of a head
        self._completed_in_read = False  # a request ended in the read being parsed
        self._pipelined_head = False  # the current head began in the read that ended the request before it
        self._refusal: tuple[int, str] | None = None

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return  # refused: read and dropped
        if self._awaiting_head:
            status = self._meter.refusal(data)
            if status is not None:
                self._refuse(status, _REASONS[status])
                return
        self._completed_in_read = False
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._pipelined_head = self._completed_in_read

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        if self._pipelined_head:
            status = parsed_refusal(self.parser.get_method(), self.url, self.headers)
            if status is not None:
                self._refuse(status, _REASONS[status])
                raise _HeadRefused(_REASONS[status])
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_head = True
        self._completed_in_read = True
        self._meter.reset()

    def send_400_response(self, msg: str) -> None:
        if self._refusal is None:  # not already refused by a limit
            self._refuse(400, msg)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._refusal is not None and self.cycle.response_complete and not self.transport.is_closing():
            self._answer(*self._refusal)

    def _refuse(self, status: int, detail: str) -> None:
        """Answer `status` now, or once the responses to the requests before this one are out."""
        self._refusal = (status, detail)
        if self.cycle is None or self.cycle.response_complete:
            self._answer(status, detail)

    def _answer(self, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        head = b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body)
        self.transport.write(STATUS_LINE[status] + head + body)
        self._unset_keepalive_if_required()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
