"""A digest of everything a store holds, to assert that a refused request changed nothing.

On Redis every key's ``DUMP`` (type and value, not the TTL) is hashed; on the memory store every table is walked.
Two digests are equal exactly when the stored state is.
"""

from __future__ import annotations

import hashlib
from collections import deque
from typing import Any

import msgspec
import redis

from personalize.store.memory import MemoryStore
from personalize.store.protocols import Store


def state_digest(store: Store, redis_url: str | None = None) -> str:
    """The digest of ``store``'s state; ``redis_url`` is where a Redis store lives."""
    if isinstance(store, MemoryStore):
        return hashlib.sha256(repr(_snapshot(store)).encode()).hexdigest()
    assert redis_url is not None, "a Redis store's digest needs its URL"
    client = redis.Redis.from_url(redis_url)
    try:
        digest = hashlib.sha256()
        for key in sorted(client.scan_iter(count=1000)):
            digest.update(key + b"\0" + (client.dump(key) or b"") + b"\0")
        return digest.hexdigest()
    finally:
        client.close()


def _snapshot(value: Any, depth: int = 0) -> Any:
    """A plain, ordered picture of a memory-store object graph (dicts by sorted key; deques and lists in order)."""
    if depth > 12:
        return "…"
    if isinstance(value, dict):
        return tuple(sorted((repr(k), _snapshot(v, depth + 1)) for k, v in value.items()))
    if isinstance(value, list | tuple | deque):
        return tuple(_snapshot(v, depth + 1) for v in value)
    if isinstance(value, set | frozenset):
        return tuple(sorted(repr(v) for v in value))
    if isinstance(value, msgspec.Struct):
        return repr(value)
    slots = getattr(type(value), "__slots__", None)
    if slots is not None or hasattr(value, "__dict__"):
        names = slots if slots is not None else sorted(vars(value))
        return (type(value).__name__, tuple((n, _snapshot(getattr(value, n, None), depth + 1)) for n in names))
    return repr(value)
