"""What the Redis backend's modules share: the record encoder and the mapping of connection failures."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import msgspec
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from personalize.store.protocols import StoreUnavailable

ENCODER = msgspec.msgpack.Encoder()
"""Stored records are msgpack."""


@contextlib.contextmanager
def reachable() -> Iterator[None]:
    """Turn a connection failure or timeout into :class:`StoreUnavailable`."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise StoreUnavailable(f"redis: {exc}") from exc


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
