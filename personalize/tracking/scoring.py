"""What each tracking event adds to profiles and trending counts.

Events arrive as a tagged union on ``type`` (``personalize.tracking.types``). :func:`score_events` turns them, with
the catalog and the weights of the settings, into :class:`ScoredEvent` records: the store applies those atomically
(see ``personalize.store.protocols.TrackingStore``), so the arithmetic here stays pure and testable.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from personalize.catalog.index import CatalogIndex
from personalize.catalog.items import Item, category_levels
from personalize.clock import epoch_ms
from personalize.settings import Settings
from personalize.tracking.types import Event

FUTURE_SLACK_MS = 5 * 60 * 1000
RECENT_KINDS = frozenset({"product_view", "click", "add_to_cart"})
"""Events that put their item on the session's recent-items list (the input of session-based recommendations)."""


class ScoredEvent(msgspec.Struct, frozen=True, array_like=True):
    """One event reduced to increments: ``affinity`` on each of ``fields`` (session and customer profile)
    and ``trend`` on ``item_id`` in each of ``scopes``; ``recent`` puts the item on the session's recent list.
    ``item_id`` is set only for items in the catalog; ``event_id`` is ``None`` when the sender gave none."""

    event_id: str | None
    kind: str
    ts: int
    affinity: float
    fields: tuple[str, ...]
    trend: float
    item_id: str | None
    scopes: tuple[str, ...]
    recent: bool


class TrackingWrite(msgspec.Struct, frozen=True):
    """Everything one call adds, applied by the store as one atomic step."""

    session_id: str
    customer_id: str | None
    now_ms: int
    events: tuple[ScoredEvent, ...]
    landing_source: str | None = None
    """Where the session came from; only the first one a session reports is kept."""


def event_type(event: Event) -> str:
    """The wire tag of an event."""
    return str(type(event).__struct_config__.tag)


def event_ts(event: Event, now_ms: int) -> int:
    """The event's time in epoch ms, ``now_ms`` when absent; a time in the future is clamped to now."""
    match event.ts:
        case None:
            return now_ms
        case datetime() | int() | float() as moment:
            ts = epoch_ms(moment)
    return now_ms if ts > now_ms + FUTURE_SLACK_MS else min(ts, now_ms)


def profile_fields(item: Item, catalog: CatalogIndex) -> tuple[str, ...]:
    """The affinity keys an item touches: brand, every category level, colour, price band, and ``n``.

    ``n`` counts weighted events (the evidence behind the profile, used to blend ranking).
    """
    fields = [f"brand:{item.brand}"]
    fields += [f"category:{level}" for level in category_levels(item.category)]
    if item.color:
        fields.append(f"color:{item.color}")
    fields.append(f"price_band:{catalog.price_band(item)}")
    fields.append("n")
    return tuple(fields)


def trend_scopes(item: Item) -> tuple[str, ...]:
    """Trending lists an item counts in: global (``""``) and every level of its category."""
    return ("", *category_levels(item.category))


def score_events(
    events: Iterable[Event], catalog: CatalogIndex, settings: Settings, now_ms: int
) -> tuple[list[ScoredEvent], int]:
    """Reduce events to increments; returns them and the number naming items the catalog lacks."""
    scored: list[ScoredEvent] = []
    unknown = 0
    for event in events:
        kind = event_type(event)
        item_id = getattr(event, "item_id", None)
        item = catalog.get(item_id) if item_id else None
        if item_id and item is None:
            unknown += 1
        affinity = settings.tracking.weights.get(kind, 0.0) if item else 0.0
        trend = settings.trending.weights.get(kind, 0.0) if item else 0.0
        scored.append(
            ScoredEvent(
                event_id=event.event_id,
                kind=kind,
                ts=event_ts(event, now_ms),
                affinity=affinity,
                fields=profile_fields(item, catalog) if item and affinity else (),
                trend=trend,
                item_id=item_id if item else None,
                scopes=trend_scopes(item) if item and trend else (),
                recent=item is not None and kind in RECENT_KINDS,
            )
        )
    return scored, unknown


def purchase_events(
    order_id: str, items: Iterable[tuple[str, int]], catalog: CatalogIndex, settings: Settings, ts_ms: int
) -> tuple[ScoredEvent, ...]:
    """A completed order's lines as ``purchase`` increments (weight per unit bought) for the buyer's profile
    and the trending lists; ``event_id`` is the order and item, so the same order never counts twice."""
    affinity = settings.tracking.weights.get("purchase", 0.0)
    trend = settings.trending.weights.get("purchase", 0.0)
    scored = []
    for item_id, quantity in items:
        item = catalog.get(item_id)
        if item is None:
            continue
        scored.append(
            ScoredEvent(
                event_id=f"{order_id}:{item_id}",
                kind="purchase",
                ts=ts_ms,
                affinity=affinity * quantity,
                fields=profile_fields(item, catalog) if affinity else (),
                trend=trend * quantity,
                item_id=item_id,
                scopes=trend_scopes(item) if trend else (),
                recent=False,
            )
        )
    return tuple(scored)
