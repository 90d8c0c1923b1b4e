"""Limits on what a client can make the server receive, against a real `python main.py serve`: a write's token is
checked before its body is read, a body past API_MAX_BODY_BYTES is a 413 (declared or chunked), an oversized
request line or head is a 414 or 431 that reaches the client, and a 500 MB unauthenticated upload leaves the
server's memory as it was."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.dashboard_settings import DEFAULT_MAX_BODY_BYTES, parse_dashboard_settings
from config.fields import ConfigError
from dashboard.http_protocol import MAX_HEAD_BYTES, MAX_REQUEST_LINE_BYTES, HeadMeter
from tests.api_server import TOKEN, Server, environ, main_py, serving

LIMIT_BYTES = 64 * 1024
AUTHORIZED = f"Authorization: Bearer {TOKEN}\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("limits")
    url = f"sqlite:///{tmp / 'automation.db'}"
    main_py(environ(tmp, url), "db", "init")
    with serving(tmp, url, API_TOKEN=TOKEN, API_MAX_BODY_BYTES=str(LIMIT_BYTES)) as running:
        yield running


def connect(server: Server) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def answer(sock: socket.socket) -> tuple[int, dict]:
    """The status and JSON body of the response on `sock`, parsed by http.client."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, json.loads(response.read())


def answers(sock: socket.socket, count: int) -> list[tuple[int, dict]]:
    """The statuses and JSON bodies of `count` responses in a row on `sock` (pipelined requests)."""
    stream = sock.makefile("rb")
    replies = []
    for _ in range(count):
        status = int(stream.readline().split()[1])
        length = 0
        while (line := stream.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        replies.append((status, json.loads(stream.read(length))))
    return replies


def head(method: str, target: str, *lines: str) -> bytes:
    return f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{''.join(lines)}\r\n".encode()


# ---------------------------------------------------------------- before the body


@pytest.mark.parametrize(
    ("authorization", "status", "words"),
    [("", 401, "missing or wrong token"), ("Authorization: Bearer wrong-token-0123456789\r\n", 401, "wrong token")],
)
def test_a_write_without_the_token_is_refused_before_its_body(
    server: Server, authorization: str, status: int, words: str
) -> None:
    """10 GB declared and not one byte sent: the answer comes at once, so the body was never waited for."""
    with connect(server) as sock:
        sock.sendall(
            head(
                "POST", "/jobs", authorization, "Content-Type: application/json\r\n", "Content-Length: 10000000000\r\n"
            )
        )
        got, body = answer(sock)
    assert got == status and words in body["detail"], (got, body)


def test_a_client_that_asks_first_is_told_no_without_a_100_continue(server: Server) -> None:
    """curl sends `Expect: 100-continue` with large bodies and waits: the refusal is the first thing it hears."""
    with connect(server) as sock:
        sock.sendall(head("PUT", "/jobs/1", "Expect: 100-continue\r\n", "Content-Length: 500000000\r\n"))
        first_line = sock.makefile("rb").readline()
    assert first_line.startswith(b"HTTP/1.1 401 "), first_line


def test_a_declared_length_past_the_limit_is_413_before_the_body(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(
            head(
                "POST",
                "/jobs",
                AUTHORIZED,
                "Content-Type: application/json\r\n",
                f"Content-Length: {LIMIT_BYTES + 1}\r\n",
            )
        )
        status, body = answer(sock)
    assert status == 413 and body["detail"] == f"request body longer than API_MAX_BODY_BYTES={LIMIT_BYTES} bytes"


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(server: Server) -> None:
    """Chunks up to one byte past the limit and no last chunk: the 413 cannot wait for the end of the body."""
    chunk = b"x" * 1024
    with connect(server) as sock:
        sock.sendall(
            head("POST", "/jobs", AUTHORIZED, "Content-Type: application/json\r\n", "Transfer-Encoding: chunked\r\n")
        )
        for _ in range(LIMIT_BYTES // len(chunk)):
            sock.sendall(b"400\r\n" + chunk + b"\r\n")
        sock.sendall(b"1\r\nx\r\n")
        status, body = answer(sock)
    assert status == 413 and "API_MAX_BODY_BYTES" in body["detail"], (status, body)


def test_a_body_within_the_limit_reaches_the_route(server: Server) -> None:
    """Just under the limit, declared or chunked: the route reads and judges it (a job without a schedule: 422)."""
    payload = json.dumps({"name": "n" * (LIMIT_BYTES - 100)}).encode()
    assert len(payload) <= LIMIT_BYTES
    for chunked in (False, True):
        connection = http.client.HTTPConnection(server.base_url.removeprefix("http://"), timeout=30)
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        connection.request(
            "POST", "/jobs", body=iter([payload]) if chunked else payload, headers=headers, encode_chunked=chunked
        )
        response = connection.getresponse()
        body = json.loads(response.read())
        connection.close()
        assert response.status == 422 and "cron_expression" in body["detail"], (chunked, response.status, body)


def test_reads_and_writes_with_the_token_still_work(server: Server) -> None:
    assert server.get("/openapi.json").status == 200
    created = server.request(
        "POST", "/jobs", {"name": "limits", "cron_expression": "0 3 * * *", "job_type": "MONITORING"}, token=TOKEN
    )
    assert created.status == 201, created.text
    assert server.request("DELETE", f"/jobs/{created.json()['id']}", token=TOKEN).status == 204


# ---------------------------------------------------------------- the request's head


def test_a_request_line_up_to_the_limit_is_served(server: Server) -> None:
    target = "/openapi.json?x="
    target += "a" * (MAX_REQUEST_LINE_BYTES - len(f"GET {target} HTTP/1.1"))
    with connect(server) as sock:
        sock.sendall(head("GET", target))
        status, body = answer(sock)
    assert status == 200 and "paths" in body


@pytest.mark.parametrize("query_bytes", [MAX_REQUEST_LINE_BYTES, 100_000, 4 * 1024 * 1024])
def test_an_overlong_request_line_is_414_that_reaches_the_client(server: Server, query_bytes: int) -> None:
    """Also when the client sends megabytes of it: the server answers, half-closes and drops the rest, instead
    of resetting the connection under the client's feet."""
    with connect(server) as sock:
        sock.sendall(head("GET", "/openapi.json?x=" + "a" * query_bytes))
        status, body = answer(sock)
    assert status == 414 and f"longer than {MAX_REQUEST_LINE_BYTES} bytes" in body["detail"], (status, body)


@pytest.mark.parametrize("header_bytes", [MAX_HEAD_BYTES, 1024 * 1024])
def test_oversized_headers_are_431(server: Server, header_bytes: int) -> None:
    with connect(server) as sock:
        sock.sendall(head("GET", "/openapi.json", f"X-Filler: {'b' * header_bytes}\r\n"))
        status, body = answer(sock)
    assert status == 431 and f"longer than {MAX_HEAD_BYTES} bytes" in body["detail"], (status, body)


def test_a_head_sent_in_small_pieces_meets_the_same_limit(server: Server) -> None:
    """The limit does not depend on how the bytes arrive: one byte per send past the limit is still a 414."""
    line = head("GET", "/openapi.json?x=" + "a" * MAX_REQUEST_LINE_BYTES)
    with connect(server) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(line[: MAX_REQUEST_LINE_BYTES - 100])
        for index in range(MAX_REQUEST_LINE_BYTES - 100, len(line)):
            sock.sendall(line[index : index + 1])
            if index % 64 == 0:
                time.sleep(0.001)
        status, _ = answer(sock)
    assert status == 414


def filled_head(head_bytes: int) -> bytes:
    """A GET whose head measures `head_bytes`: all of it but the CRLF CRLF that ends it."""
    filler = head_bytes - (len(head("GET", "/openapi.json", "X-Filler: \r\n")) - 4)
    return head("GET", "/openapi.json", f"X-Filler: {'b' * filler}\r\n")


@pytest.mark.parametrize(("head_bytes", "status"), [(MAX_HEAD_BYTES, 200), (MAX_HEAD_BYTES + 1, 431)])
def test_a_head_at_the_limit_is_served_and_one_byte_more_is_431(server: Server, head_bytes: int, status: int) -> None:
    """Sent in two pieces split inside the blank line that ends the head: the count does not depend on it."""
    request = filled_head(head_bytes)
    with connect(server) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(request[:-2])
        time.sleep(0.05)
        sock.sendall(request[-2:])
        got, _ = answer(sock)
    assert got == status


@pytest.mark.parametrize(
    ("second", "status"),
    [
        (head("GET", "/openapi.json?x=" + "a" * MAX_REQUEST_LINE_BYTES), 414),
        (head("GET", "/openapi.json", f"X-Filler: {'b' * 100_000}\r\n"), 431),
    ],
)
def test_a_pipelined_request_past_a_limit_is_refused_after_the_answer_before_it(
    server: Server, second: bytes, status: int
) -> None:
    """Both requests in one send: the first is answered, then the second refused."""
    with connect(server) as sock:
        sock.sendall(head("GET", "/openapi.json") + second)
        (first_status, first_body), (second_status, second_body) = answers(sock, 2)
    assert first_status == 200 and "paths" in first_body
    assert second_status == status and "longer than" in second_body["detail"], (second_status, second_body)


def test_pipelined_requests_within_the_limits_are_all_served(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(head("GET", "/openapi.json") + filled_head(MAX_HEAD_BYTES - 100) + head("GET", "/openapi.json"))
        statuses = [status for status, _ in answers(sock, 3)]
    assert statuses == [200, 200, 200]


def test_a_malformed_request_is_a_400_with_a_json_detail(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\nHost: 127.0.0.1\n\n")
        status, body = answer(sock)
    assert status == 400 and body["detail"], body


@pytest.mark.parametrize(
    ("request_bytes", "verdict"),
    [
        (filled_head(MAX_HEAD_BYTES), None),
        (filled_head(MAX_HEAD_BYTES + 1), 431),
        (head("GET", "/?x=" + "a" * (MAX_REQUEST_LINE_BYTES - len("GET /?x= HTTP/1.1"))), None),
        (head("GET", "/?x=" + "a" * (MAX_REQUEST_LINE_BYTES + 1 - len("GET /?x= HTTP/1.1"))), 414),
    ],
)
def test_the_head_meter_gives_the_same_verdict_whatever_the_pieces(request_bytes: bytes, verdict: int | None) -> None:
    for piece_bytes in (1, 2, 3, 5, 4096, len(request_bytes)):
        meter = HeadMeter()
        got = None
        for start in range(0, len(request_bytes), piece_bytes):
            got = meter.refusal(request_bytes[start : start + piece_bytes])
            if got is not None:
                break
        assert got == verdict, (piece_bytes, got)


# ---------------------------------------------------------------- memory


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


@pytest.mark.slow
def test_a_500_mb_unauthenticated_upload_leaves_memory_as_it_was(server: Server) -> None:
    """Streamed from a generator (the test holds 1 MiB of it at a time); the server answers 401 before reading
    and drops what follows."""
    megabyte = b"x" * (1024 * 1024)
    total_bytes = 500 * len(megabyte)

    def upload(count: int) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(server.base_url.removeprefix("http://"), timeout=120)
        connection.request(
            "POST",
            "/jobs",
            body=(megabyte for _ in range(count)),
            headers={"Content-Type": "application/json", "Content-Length": str(count * len(megabyte))},
        )
        response = connection.getresponse()
        reply = response.status, response.read()
        connection.close()
        return reply

    assert upload(1)[0] == 401  # code paths warmed up before measuring
    before = rss_bytes(server.pid)
    status, body = upload(total_bytes // len(megabyte))
    grown_bytes = rss_bytes(server.pid) - before
    assert status == 401 and b"token" in body
    assert grown_bytes < 4 * 1024 * 1024, f"the server grew by {grown_bytes / 2**20:.1f} MiB"


# ---------------------------------------------------------------- the setting


def test_api_max_body_bytes_is_checked() -> None:
    assert parse_dashboard_settings({}).max_body_bytes == DEFAULT_MAX_BODY_BYTES
    assert parse_dashboard_settings({"API_MAX_BODY_BYTES": "2048"}).max_body_bytes == 2048
    for bad in ("lots", "0", "1.5", str(2**40)):
        with pytest.raises(ConfigError) as raised:
            parse_dashboard_settings({"API_MAX_BODY_BYTES": bad})
        assert "API_MAX_BODY_BYTES" in str(raised.value) and bad in str(raised.value), str(raised.value)
