"""dashboard.responses.encode_json: the document the standard library's encoder wrote before (times with their UTC
offset, enums by value, decimals as numbers), and text that is not UTF-8 still encoded."""

from __future__ import annotations

import enum
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from dashboard.responses import _default, encode_json


class Status(enum.Enum):
    OK = "ok"


DOCUMENT = {
    "items": [
        {
            "id": 2**63 - 1,
            "timestamp": datetime(2026, 3, 1, 0, 0, 30, 250000),  # naive: UTC, as the tables hold it
            "sent_at": datetime(2026, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=1))),
            "day": date(2026, 3, 1),
            "status": Status.OK,
            "average": Decimal("12.5"),  # MariaDB's AVG
            "cpu_percent": 12.345678901234567,
            "load_1m": 1e-05,
            "hostname": "web-1",
            "missing": None,
        }
    ],
    "columns": ("cpu_percent", "memory_percent"),
    "limit": 100,
}


def test_the_same_document_as_the_standard_encoder() -> None:
    expected = json.dumps(DOCUMENT, default=_default, separators=(",", ":"), allow_nan=False).encode()
    encoded = encode_json(DOCUMENT)
    assert json.loads(encoded) == json.loads(expected)  # the same values (1e-05 is spelled 0.00001)
    assert b'"timestamp":"2026-03-01T00:00:30.250000+00:00","sent_at":"2026-03-01T01:00:00+01:00"' in encoded
    assert b'"day":"2026-03-01","status":"ok","average":12.5,' in encoded


def test_text_that_is_not_utf8_and_unknown_types() -> None:
    assert json.loads(encode_json({"detail": "bad value '\ud800'"})) == {"detail": "bad value '\ud800'"}
    assert json.loads(encode_json({"host": "héllo\x00"})) == {"host": "héllo\x00"}
    assert encode_json({"value": float("nan")}) == b'{"value":null}'  # JSON has no NaN
    with pytest.raises(TypeError, match="not JSON serialisable: object"):
        encode_json({"value": object()})
