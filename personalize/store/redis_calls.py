"""How the Redis backend calls Redis: records encoded as msgpack, deadlines, and Redis' failures as store errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from personalize.store.protocols import StoreError, StoreFull, StoreUnavailable

ENCODER = msgspec.msgpack.Encoder()
"""Stored records are msgpack."""


@contextlib.contextmanager
def reachable() -> Iterator[None]:
    """Turn a connection failure or timeout into :class:`StoreUnavailable`, a write refused for lack of memory into
    :class:`StoreFull`, and any other Redis error into :class:`StoreError`. The messages carry Redis' reason only:
    redis-py quotes a failed command with its arguments (records, scripts), which must not reach a log."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise StoreUnavailable(f"redis: {exc}") from exc
    except RedisError as exc:
        reason = _reason(exc)
        if isinstance(exc, OutOfMemoryError) or reason.startswith("OOM"):
            raise StoreFull("redis: out of memory (maxmemory reached); nothing was written") from None
        raise StoreError(f"redis: {type(exc).__name__}: {reason}") from None


def _reason(exc: RedisError) -> str:
    """Redis' own words, without the command redis-py puts before them (``Command # 1 (SET key value) of pipeline
    caused error: OOM …``) and cut short."""
    text = str(exc)
    _, marker, after = text.partition("caused error: ")
    return (after if marker else text).strip()[:120]


@contextlib.asynccontextmanager
async def answered_within(seconds: float | None) -> AsyncIterator[None]:
    """:func:`reachable`, and a call still unanswered after ``seconds`` (``None``: the socket timeout alone) is
    :class:`StoreUnavailable` too. Redis may still run a call cut short: callers make repeating it harmless."""
    try:
        async with asyncio.timeout(seconds):
            with reachable():
                yield
    except TimeoutError as exc:
        raise StoreUnavailable(f"redis: no answer within {seconds:g} s") from exc


async def chunks(source: AsyncIterator[Any], size: int) -> AsyncIterator[list[Any]]:
    """A scan's members in lists of ``size`` (the last one shorter), to read or write each list in one round trip."""
    batch: list[Any] = []
    async for value in source:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
