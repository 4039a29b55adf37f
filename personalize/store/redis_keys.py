"""What the Redis backend's modules share: the record encoder and the mapping of connection failures."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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
