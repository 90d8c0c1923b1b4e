"""JSON bodies encoded once, straight from plain rows: times as ISO 8601 with their UTC offset, enums by value.

Routes return `json_response(...)` instead of letting FastAPI walk the data through jsonable_encoder, which
costs more than the query for a thousand-point chart.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from fastapi.responses import Response


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def encode_json(content: Any) -> bytes:
    return json.dumps(content, default=_default, separators=(",", ":"), allow_nan=False).encode()


def json_response(content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(encode_json(content), status_code=status_code, headers=headers, media_type="application/json")
