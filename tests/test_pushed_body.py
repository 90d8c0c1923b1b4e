"""Reading a pushed body: what is small enough to decode on the event loop, gzip-compressed or not, and what is
left to pushed_json (in a worker thread), which refuses it with its reason."""

from __future__ import annotations

import gzip

import pytest
from fastapi import HTTPException

from dashboard.pushed_body import pushed_json, small_json

JSON = b'{"samples": []}'


def test_a_small_body_is_decoded_at_once_compressed_or_not() -> None:
    assert small_json(JSON, None, 1024) == JSON
    assert small_json(gzip.compress(JSON), "gzip", 1024) == JSON
    assert small_json(gzip.compress(JSON), " GZIP ", 1024) == JSON


def test_a_body_larger_once_decompressed_is_left_to_the_thread() -> None:
    expanding = gzip.compress(b" " * 100_000 + JSON)  # a few hundred bytes on the wire
    assert len(expanding) < 1024
    assert small_json(expanding, "gzip", 1024) is None
    assert small_json(JSON * 100, None, 1024) is None
    assert pushed_json(expanding, "gzip", 200_000).endswith(JSON)


@pytest.mark.parametrize(
    ("raw", "encoding", "status"),
    [
        (b"not gzip at all", "gzip", 400),
        (gzip.compress(JSON)[:-9], "gzip", 400),  # the stream ends early
        (JSON, "br", 400),
    ],
    ids=["broken", "truncated", "other-encoding"],
)
def test_a_body_pushed_json_refuses_is_not_taken_as_small(raw: bytes, encoding: str, status: int) -> None:
    assert small_json(raw, encoding, 1024) is None
    with pytest.raises(HTTPException) as refused:
        pushed_json(raw, encoding, 1024)
    assert refused.value.status_code == status
