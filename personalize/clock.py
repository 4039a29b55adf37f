"""The one place the server reads the wall clock (domain code receives time as an argument), and the one
type and conversion of wire times."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from msgspec import Meta

from personalize.openapi import schema

MAX_EPOCH_MS = 10**14
# A number is always milliseconds: with only an int arm, litestar's lenient conversion would read a fractional
# number as epoch *seconds* (msgspec turns numbers into datetimes). The bounds are stated again for the schema
# because litestar drops a bound of 0 inside a union.
WireTime = Annotated[Annotated[float, Meta(ge=0, le=MAX_EPOCH_MS)] | datetime, schema(minimum=0, maximum=MAX_EPOCH_MS)]
"""A time on the wire: epoch milliseconds (a fraction is dropped) or an ISO 8601 string."""


def now_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


def epoch_ms(value: datetime | float | str) -> int:
    """Epoch milliseconds of a wire time: a number is taken as milliseconds (truncated to whole ones), a string
    as ISO 8601; a time with no zone is UTC."""
    if isinstance(value, int | float):
        return int(value)
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)
