"""The one place the server reads the wall clock (domain code receives time as an argument), and the one
type and conversion of wire times."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from msgspec import Meta

from personalize.openapi import schema

MAX_EPOCH_MS = 10**14
"""The latest wire time accepted (in the year 5138): any later one, and any before 1970, is a 400 naming the field,
so no date arithmetic downstream (expiry months, validity hours) can leave the calendar."""
# A number is always milliseconds: with only an int arm, litestar's lenient conversion would read a fractional
# number as epoch *seconds* (msgspec turns numbers into datetimes). The bounds are stated again for the schema
# because litestar drops a bound of 0 inside a union.
WireTime = Annotated[Annotated[float, Meta(ge=0, le=MAX_EPOCH_MS)] | datetime, schema(minimum=0, maximum=MAX_EPOCH_MS)]
"""A time on the wire: epoch milliseconds (a fraction is dropped) or an ISO 8601 string."""


def now_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


def check_time(value: datetime | float | None, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless the wire time lies between 1970 and :data:`MAX_EPOCH_MS` (numbers
    are bounded by the type already; a date string is not)."""
    if isinstance(value, datetime):
        try:
            ms = epoch_ms(value)
        except (OverflowError, ValueError):
            ms = -1
        if not 0 <= ms <= MAX_EPOCH_MS:
            raise ValueError(f"{name} {value.isoformat()} must lie between 1970 and the year 5138")


def epoch_ms(value: datetime | float | str) -> int:
    """Epoch milliseconds of a wire time: a number is taken as milliseconds (truncated to whole ones), a string
    as ISO 8601; a time with no zone is UTC."""
    if isinstance(value, int | float):
        return int(value)
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def utc(ms: int) -> datetime:
    """Epoch milliseconds as the aware UTC datetime an answer carries."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
