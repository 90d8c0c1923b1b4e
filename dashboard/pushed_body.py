"""Reading a pushed body: gzip-compressed or not, never decompressed past a bound (a small body can expand to
gigabytes), and refused when a string in it holds a NUL character, which PostgreSQL cannot store."""

from __future__ import annotations

import re
import zlib

from fastapi import HTTPException

_GZIP_WINDOW = 16 + zlib.MAX_WBITS  # zlib's way of saying: a gzip header and trailer around deflate
# JSON's escape of NUL, not preceded by an escaped backslash (`\\u0000` is the text "\u0000", which is fine).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def pushed_json(raw: bytes, content_encoding: str | None, max_bytes: int) -> bytes:
    """The JSON bytes of a push: 400 for an encoding other than gzip or identity, or a broken gzip stream; 413
    past `max_bytes` (INGEST_MAX_BATCH_BYTES) once decompressed; 422 for a NUL character in a string."""
    encoding = _encoding(content_encoding)
    if encoding == "gzip":
        try:
            body, ended = _inflated(raw, max_bytes)
        except zlib.error as error:
            raise HTTPException(400, f"the body is not valid gzip: {error}") from None
        if not ended and len(body) <= max_bytes:
            raise HTTPException(400, "the body is not valid gzip: the stream ends early")
    elif encoding == "identity":
        body = raw
    else:
        raise HTTPException(400, f"Content-Encoding={encoding!r} is invalid; expected gzip or none")
    if len(body) > max_bytes:
        raise HTTPException(413, f"the body is longer than INGEST_MAX_BATCH_BYTES={max_bytes} bytes once decompressed")
    if b"\\u0000" in body and _NUL_ESCAPE.search(body):  # the plain search first: the pattern's is slow
        raise HTTPException(422, "a string in the body holds a NUL (\\u0000) character; expected text without it")
    return body


def small_json(raw: bytes, content_encoding: str | None, max_bytes: int) -> bytes | None:
    """The JSON of a push that is at most `max_bytes` once decompressed (cheaper to decode at once than to hand to
    a thread: an agent's live push, gzip-compressed), else None; None too for a body pushed_json refuses, which
    then says why."""
    encoding = _encoding(content_encoding)
    if encoding == "identity":
        return raw if len(raw) <= max_bytes else None
    if encoding != "gzip":
        return None
    try:
        body, ended = _inflated(raw, max_bytes)
    except zlib.error:
        return None
    return body if ended and len(body) <= max_bytes else None


def _encoding(content_encoding: str | None) -> str:
    return (content_encoding or "identity").strip().lower()


def _inflated(raw: bytes, max_bytes: int) -> tuple[bytes, bool]:
    """The gzip body inflated to at most one byte past `max_bytes`, and whether its stream ended; raises
    zlib.error for a broken one."""
    inflater = zlib.decompressobj(_GZIP_WINDOW)
    body = inflater.decompress(raw, max_bytes + 1)
    return body, inflater.eof
