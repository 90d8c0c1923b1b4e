"""Query parameters several routes share: time range bounds and page sizes, with their limits in one place.

Times are ISO 8601; `Z` and offsets are honoured and a time without an offset is taken as UTC. They must lie
from the Unix epoch (the clock the downsampling buckets count in) to the end of year 9999.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated

from fastapi import HTTPException, Path, Query
from pydantic import BeforeValidator

from config.user_text import HOST_NAME
from storage.types import MAX_ID

MAX_PAGE = 1000
DEFAULT_PAGE = 100
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)

_DATE_AND_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _date_and_time(value: object) -> object:
    """Only a date with a time of day, as the schema's date-time says: pydantic alone would also take a number
    as Unix seconds, or a date alone as its midnight."""
    if isinstance(value, str) and not _DATE_AND_TIME.match(value):
        raise ValueError("expected an ISO 8601 date and time such as 2026-11-01T00:00:00Z")
    return value


StartTime = Annotated[
    datetime | None,
    BeforeValidator(_date_and_time),
    Query(description="ISO 8601, e.g. 2026-11-01T00:00:00Z; no offset = UTC"),
]
EndTime = Annotated[
    datetime | None, BeforeValidator(_date_and_time), Query(description="ISO 8601, inclusive; no offset = UTC")
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"rows per page (1-{MAX_PAGE})")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="rows to skip (newest first)")]
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="a row's id")]
Hostname = Annotated[str | None, Query(max_length=255, description="one host's samples (default: every host)")]


def as_utc(moment: datetime | None) -> datetime | None:
    """An aware UTC time; a naive one is taken as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _bound(moment: datetime | None, name: str) -> datetime | None:
    """`moment` in UTC, or a 422 naming it when it lies outside the years the API serves (an offset can push
    0001-01-01 or 9999-12-31 past what a datetime holds: that is a 422 too, not an OverflowError)."""
    try:
        converted = as_utc(moment)
    except OverflowError:
        converted = None
    if moment is not None and (converted is None or converted < EARLIEST_TIME):
        raise HTTPException(
            422,
            f"{name}={moment.isoformat()} is out of range; expected a time from "
            f"1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z",
        )
    return converted


def time_range(
    start: datetime | None, end: datetime | None, start_name: str = "start_time", end_name: str = "end_time"
) -> tuple[datetime | None, datetime | None]:
    """Both bounds in UTC; a bound outside the served years, or a start after the end, is a 422 naming it."""
    start, end = _bound(start, start_name), _bound(end, end_name)
    if start is not None and end is not None and start > end:
        raise HTTPException(
            422,
            f"{start_name}={start.isoformat()} is after {end_name}={end.isoformat()}; "
            f"expected {start_name} <= {end_name}",
        )
    return start, end


# A fleet host in a path (/api/v1/hosts/{name}...): the name rule of `main.py hosts add`, documented; the fleet
# code checks it.
HostName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=HOST_NAME.max_length,
        json_schema_extra={"pattern": HOST_NAME.pattern},
        description="the host's name",
    ),
]
