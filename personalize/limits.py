"""Rate limits of the browser routes: token buckets per client address and per session, in this process.

The per-address limit is a guard (:func:`limit_by_address`), so it runs before the body is read and parsed; the
per-session limit needs the session id from the body and runs in the handler. A bucket holds up to ``burst``
tokens and refills at ``per_second``; each request takes one, and a request finding none is refused with 429 and
``Retry-After`` (whole seconds until a token is back). The buckets live in the server process (no store round trip
on the hot path), so with several workers a client can reach ``workers`` times the limit; they are a guard against
floods and scraping, not a quota. At most ``max_keys`` buckets are kept (least recently used first out), so a flood
of new addresses cannot grow memory without bound. Calls carrying the server-to-server key are never limited.
"""

from __future__ import annotations

import math
import time
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from personalize.api.auth import carries_api_key
from personalize.errors import RateLimited
from personalize.settings import LimitSettings


class RateLimiter:
    """Token buckets by key."""

    def __init__(self, per_second: float, burst: int, max_keys: int) -> None:
        self.per_second, self.burst, self.max_keys = per_second, burst, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def wait(self, key: str, now: float) -> float:
        """Take a token for ``key``: 0.0 when granted, else the seconds until one is available."""
        if self.per_second <= 0:
            return 0.0
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.per_second)
        granted = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if granted else tokens, now)  # re-inserted: dict order is recency
        if len(self._buckets) > self.max_keys:
            del self._buckets[next(iter(self._buckets))]
        return 0.0 if granted else (1.0 - tokens) / self.per_second

    def __len__(self) -> int:
        return len(self._buckets)


class BrowserLimits:
    """The per-address and per-session limiters of one process."""

    def __init__(self, settings: LimitSettings, api_key: str) -> None:
        self.settings, self.api_key = settings, api_key
        self.by_address = RateLimiter(settings.ip_per_second, settings.ip_burst, settings.max_keys)
        self.by_session = RateLimiter(settings.session_per_second, settings.session_burst, settings.max_keys)

    def client_address(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        """The configured proxy header's address (its last hop, the one your proxy saw), else the peer's."""
        header = self.settings.client_ip_header
        if header:
            forwarded = connection.headers.get(header, "")
            if forwarded:
                return forwarded.rsplit(",", 1)[-1].strip()
        client = connection.scope.get("client")
        return str(client[0]) if client else "-"

    def check_address(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Refuse with 429 when the client's address is over its rate, unless the call carries the server-to-server
        key (a shop's back end calls for many visitors from one address). Runs before the body is read."""
        if carries_api_key(connection, self.api_key):
            return
        _refuse_if("client address", self.by_address.wait(self.client_address(connection), time.monotonic()))

    def check_session(self, connection: ASGIConnection[Any, Any, Any, Any], session_id: str | None) -> None:
        """Refuse with 429 when the session (named in the body) is over its rate; a new session has nothing yet."""
        if session_id and not carries_api_key(connection, self.api_key):
            _refuse_if("session", self.by_session.wait(session_id, time.monotonic()))


async def limit_by_address(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The guard of the browser routes: the per-address limit, checked before the body is read, so a client over
    its rate costs one bucket lookup whatever it sends."""
    connection.app.state.runtime.limits.check_address(connection)


def _refuse_if(what: str, wait: float) -> None:
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        message = f"too many requests from this {what}; retry in {seconds} s"
        raise RateLimited(message, seconds)
