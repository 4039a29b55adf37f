"""Tracking's wire types: the events browsers send (a tagged union on ``type``), their batch and its answer,
and a session's affinities read back."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from personalize.catalog.items import ItemId
from personalize.clock import WireTime, check_time

SessionId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
EventId = Annotated[str, Meta(min_length=1, max_length=100)]
PlacementName = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]


class _Event(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="type"):
    event_id: EventId | None = None
    ts: WireTime | None = None

    def __post_init__(self) -> None:
        check_time(self.ts, "ts")


class ProductView(_Event, tag="product_view"):
    """The visitor looked at a product page."""

    item_id: ItemId
    placement: PlacementName | None = None


class Click(_Event, tag="click"):
    """The visitor clicked an item, typically a rendered recommendation (``placement`` names the row)."""

    item_id: ItemId
    placement: PlacementName | None = None


class AddToCart(_Event, tag="add_to_cart"):
    """An item went into the cart."""

    item_id: ItemId
    quantity: Annotated[int, Meta(ge=1, le=1000)] = 1


class RemoveFromCart(_Event, tag="remove_from_cart"):
    """An item left the cart."""

    item_id: ItemId
    quantity: Annotated[int, Meta(ge=1, le=1000)] = 1


class Search(_Event, tag="search"):
    """A site search."""

    query: Annotated[str, Meta(min_length=1, max_length=200)]


class Unsubscribe(_Event, tag="unsubscribe"):
    """The visitor unsubscribed from marketing messages."""


Event = ProductView | Click | AddToCart | RemoveFromCart | Search | Unsubscribe
MAX_BATCH = 5000


class EventBatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/events``."""

    session_id: SessionId
    events: Annotated[list[Event], Meta(min_length=1, max_length=MAX_BATCH)]
    customer_token: Annotated[str, Meta(max_length=512)] | None = None


class TrackResult(msgspec.Struct):
    """Response of ``POST /v1/events`` (202): what was counted."""

    accepted: int
    duplicates: int
    unknown_items: int


class Affinity(msgspec.Struct):
    """One attribute value and its decayed score."""

    value: str
    score: float


class SessionProfile(msgspec.Struct, kw_only=True):
    """``GET /v1/sessions/{session_id}/profile``: affinities per attribute, highest first, decayed to now."""

    session_id: str
    customer_id: str | None
    evidence: float
    affinities: dict[str, list[Affinity]]
