"""State behind narrow protocols (``protocols``), with the ``memory`` and ``redis`` backends."""

from __future__ import annotations

from personalize.settings import STORE_SCHEMES, Settings
from personalize.store.protocols import Store, TrackingConfig


def tracking_config(settings: Settings) -> TrackingConfig:
    """The half-lives and lifetimes of the settings, in the units the stores use."""
    tracking, trending = settings.tracking, settings.trending
    return TrackingConfig(
        session_half_life_ms=tracking.session_half_life_minutes * 60_000,
        customer_half_life_ms=tracking.customer_half_life_days * 86_400_000,
        trend_half_life_ms=trending.half_life_hours * 3_600_000,
        session_ttl_s=int(tracking.session_ttl_hours * 3600),
        customer_ttl_s=int(tracking.customer_ttl_days * 86400),
        dedup_ttl_s=int(tracking.dedup_hours * 3600),
        recent_items=tracking.recent_items,
        log_length=tracking.log_length,
        max_sessions=tracking.max_sessions,
        max_event_ids_per_session=tracking.max_event_ids_per_session,
        max_event_ids=tracking.max_event_ids,
        outbox_retention_ms=int(settings.outbox.retention_days * 86_400_000),
        outbox_length=settings.outbox.max_length,
    )


def open_store(url: str, config: TrackingConfig) -> Store:
    """Open the backend a URL names: ``memory://``, or ``redis://`` / ``rediss://`` with a client (connection pool)
    of this process, which the store closes with itself. Call it where the store will be used (a server's
    lifespan, a command's event loop)."""
    scheme = url.partition("://")[0]
    if scheme not in STORE_SCHEMES:
        raise ValueError(f"store URL {url!r}: the scheme must be one of {', '.join(f'{s}://' for s in STORE_SCHEMES)}")
    if not STORE_SCHEMES[scheme]:
        from personalize.store.memory import MemoryStore

        return MemoryStore(config)
    from personalize.store.redis import RedisStore, redis_client

    return RedisStore(redis_client(url), config)
