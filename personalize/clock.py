"""The one place the server reads the wall clock; domain code receives time as an argument."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


def epoch_ms(value: datetime | int | str) -> int:
    """Epoch milliseconds of a wire time: an int is taken as milliseconds, a string as ISO 8601; a time with
    no zone is UTC."""
    if isinstance(value, int):
        return value
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)
