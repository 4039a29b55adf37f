"""Prometheus metrics and the one structured log line per request.

``RequestObserver`` is a plain ASGI middleware (no thread hops, no per-request allocations beyond the
log line): it assigns a request id (or keeps the caller's ``X-Request-ID``), times the request, counts it
per route template and status, and logs one JSON line.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import msgspec
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

access_log = logging.getLogger("personalize.access")
_LINE = msgspec.json.Encoder()
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """The server's metrics, in a registry of its own (one per app, so tests can build many)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "pz_http_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pz_http_request_duration_seconds",
            "Time to answer, by route.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.store_errors = Counter(
            "pz_store_errors",
            "Requests that found the store unreachable, by route.",
            ["route"],
            registry=self.registry,
        )
        self.banner_exposures = Counter(
            "pz_banner_exposures",
            "Banner exposures by banner and arm (a held-out exposure is counted too).",
            ["banner", "arm"],
            registry=self.registry,
        )
        self.degraded_pages = Counter(
            "pz_degraded_pages",
            "Page views answered without the store (unreachable): non-personal content.",
            registry=self.registry,
        )
        self.unrecorded_pages = Counter(
            "pz_unrecorded_pages",
            "Page views answered from the store without recording them (it refused writes: out of memory).",
            registry=self.registry,
        )
        self.sessions = Gauge(
            "pz_store_sessions", "Sessions the store holds (bounded by tracking.max_sessions).", registry=self.registry
        )
        self.event_ids = Gauge(
            "pz_store_event_ids",
            "Event ids the memory store remembers for de-duplication (bounded by tracking.max_event_ids).",
            registry=self.registry,
        )
        self.dropped = Counter(
            "pz_store_dropped",
            "What the store's bounds made an event batch drop: least recently active sessions, oldest event ids.",
            ["kind"],
            registry=self.registry,
        )
        self.buckets = Gauge(
            "pz_rate_limit_buckets",
            "Rate-limit buckets this process keeps, per limiter (bounded by limits.max_keys).",
            ["limiter"],
            registry=self.registry,
        )
        self.page_warnings = Counter(
            "pz_page_warnings",
            "Page views that named something the catalog lacks (answered from the fallbacks), by warning code.",
            ["code"],
            registry=self.registry,
        )
        self.events = Counter(
            "pz_events",
            "Tracking events by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.loyalty_day_checks = Counter(
            "pz_loyalty_day_checks",
            "Times this process asked the store whether today's loyalty day was still to run (once an hour).",
            registry=self.registry,
        )
        self.loyalty_days = Counter(
            "pz_loyalty_days",
            "Loyalty days this process ran (tier evaluation, expiry, notices, birthday codes; one process a day).",
            registry=self.registry,
        )
        self.loyalty_changes = Counter(
            "pz_loyalty_day_changes",
            "What this process's loyalty days did: customers downgraded and reactivated, points expired, expiry "
            "notices and birthday codes sent (downgraded, reactivated, points_expired, points_expiring, "
            "birthday_coupons).",
            ["outcome"],
            registry=self.registry,
        )


class LogLine(msgspec.Struct):
    request_id: str
    method: str
    path: str
    route: str
    status: int
    duration_ms: float


class RequestObserver:
    """ASGI middleware: request id, metrics and the access log line."""

    def __init__(self, app: Any, metrics: Metrics, log_requests: bool) -> None:
        self.app, self.metrics, self.log_requests = app, metrics, log_requests

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, request_id, status, time.perf_counter() - started)

    def _record(self, scope: Any, request_id: str, status: int, elapsed: float) -> None:
        route = scope.get("path_template") or "unmatched"
        method = scope["method"]
        self.metrics.requests.labels(method, route, str(status)).inc()
        self.metrics.latency.labels(method, route).observe(elapsed)
        if self.log_requests and access_log.isEnabledFor(logging.INFO):
            line = LogLine(request_id, method, scope["path"], route, status, round(elapsed * 1000, 3))
            access_log.info(_LINE.encode(line).decode())


def _request_id(scope: Any) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and 0 < len(value) <= 64:
            return str(value.decode("latin-1"))
    return os.urandom(8).hex()
