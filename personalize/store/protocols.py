"""The narrow interfaces every store backend implements, one per concern.

Two real backends implement them: ``memory`` (one process, not durable) and ``redis`` (shared by many
processes and hosts). ``tests/contract`` runs the same tests against both. A miss returns ``None``;
a backend that cannot be reached raises :class:`StoreUnavailable`.

Exceptions::

    StoreError
    └── StoreUnavailable      the backend did not answer (connection refused, timeout)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

import msgspec

from personalize.catalog import Item
from personalize.tracking import TrackingWrite


class StoreError(Exception):
    """Base of the store errors."""


class StoreUnavailable(StoreError):
    """The backend could not be reached; the request may be retried."""


class TrackingConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Half-lives, lifetimes and lengths the tracking store applies (from ``Settings.tracking``/``trending``)."""

    session_half_life_ms: float
    customer_half_life_ms: float
    trend_half_life_ms: float
    session_ttl_s: int
    customer_ttl_s: int
    dedup_ttl_s: int
    recent_items: int = 20
    log_length: int = 1_000_000


class Interaction(msgspec.Struct, frozen=True, array_like=True):
    """One logged event for offline training: ``user`` is the customer id, or ``session:<id>`` when anonymous."""

    user: str
    session_id: str
    item_id: str
    kind: str
    ts: int


class RawScores(msgspec.Struct, frozen=True):
    """Decayed sums as stored: each value is kept against ``epoch_ms`` (see ``recommenders.decay``)."""

    epoch_ms: float
    scores: dict[str, float]


class RawProfile(msgspec.Struct, frozen=True):
    """A session's stored scores, the customer it is linked to, that customer's long-term scores, and the
    session's recent items (oldest first)."""

    session: RawScores | None
    customer_id: str | None
    customer: RawScores | None
    recent: tuple[str, ...] = ()


class Applied(msgspec.Struct, frozen=True):
    """What a tracking write did: events counted, and events skipped as already seen."""

    accepted: int
    duplicates: int


class CatalogStore(Protocol):
    """Catalog items by id, listed in id order with optional brand and category filters."""

    async def upsert_items(self, items: Sequence[Item]) -> int:
        """Insert or replace items atomically; returns the new catalog version."""
        ...

    async def get_item(self, item_id: str) -> Item | None:
        """One item, or ``None``."""
        ...

    async def list_items(
        self, *, brand: str | None, category: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Item], str | None]:
        """Items with ``item_id > cursor`` in id order, filtered by brand (any case) and category prefix
        (a whole path level); returns them and the cursor of the next page, ``None`` at the end."""
        ...

    def all_items(self) -> AsyncIterator[Item]:
        """Every item, in batches under the hood, for building the in-process index."""
        ...

    async def version(self) -> int:
        """Increases with every upsert; 0 for an empty catalog."""
        ...


class TrackingStore(Protocol):
    """Session and customer affinity profiles, trending counts and event de-duplication."""

    async def apply(self, write: TrackingWrite) -> Applied:
        """Apply a batch atomically: each event whose ``event_id`` this session has already sent is skipped;
        the others add their increments to the session profile, the linked customer's profile and the
        trending lists, join the session's recent items and the interaction log. The session is linked to
        ``write.customer_id`` when given."""
        ...

    async def profile(self, session_id: str) -> RawProfile:
        """The session's scores, its customer's (either part ``None`` when absent) and its recent items,
        in one read."""
        ...

    def interactions(self) -> AsyncIterator[Interaction]:
        """The interaction log (events with a known item, oldest first, the newest ``log_length`` kept),
        for offline training."""
        ...

    async def trending(self, scope: str, limit: int) -> tuple[float, list[tuple[str, float]]]:
        """The trend epoch and the top ``limit`` items of a scope (``""`` global, else a category path)
        by stored score, highest first."""
        ...


class Store(Protocol):
    """One backend: its concerns plus lifecycle."""

    @property
    def catalog(self) -> CatalogStore:
        """Catalog items."""
        ...

    @property
    def tracking(self) -> TrackingStore:
        """Profiles, trending and de-duplication."""
        ...

    async def ping(self) -> bool:
        """Whether the backend answers."""
        ...

    async def claim_once(self, name: str) -> bool:
        """True for exactly one caller across all processes sharing the store (e.g. who loads the demo)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
