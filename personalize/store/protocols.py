"""The narrow interfaces every store backend implements, one per concern (the loyalty side's transaction and outbox
in ``loyalty_protocols``).

Two real backends implement them: ``memory`` (one process, not durable) and ``redis`` (shared by many
processes and hosts). ``tests/contract`` runs the same tests against both. A miss returns ``None``;
a backend that cannot be reached raises :class:`StoreUnavailable`.

Exceptions::

    StoreError
    └── StoreUnavailable      the backend did not answer (connection refused, timeout)
        └── StoreFull         it answered but refused to write (out of memory); nothing was written
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol

import msgspec

from loyalty_nudges.coupons import Campaign, Coupon
from loyalty_nudges.experiment_sums import Exposure, Sums, UnitRecord
from loyalty_nudges.ledger import Ledger
from personalize.catalog.items import Item
from personalize.store.loyalty_protocols import LedgerStore
from personalize.tracking.scoring import TrackingWrite


class StoreError(Exception):
    """Base of the store errors."""


class StoreUnavailable(StoreError):
    """The backend could not be reached; the request may be retried."""


class StoreFull(StoreUnavailable):
    """The backend refused a write for lack of memory (Redis ``maxmemory`` under ``noeviction``); nothing was
    written, reads still work, and the request may be retried."""


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
    max_sessions: int = 200_000
    max_event_ids_per_session: int = 1000
    max_event_ids: int = 2_000_000
    outbox_retention_ms: int = 30 * 86_400_000
    """Loyalty notices older than this are trimmed from the outbox."""
    outbox_length: int = 1_000_000
    """And at most this many are kept (the oldest go first)."""


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
    landing_source: str | None = None


class Applied(msgspec.Struct, frozen=True):
    """What a tracking write did: events counted, events skipped as already seen, and what the store's bounds
    made it drop (least recently active sessions, oldest remembered event ids)."""

    accepted: int
    duplicates: int
    sessions_dropped: int = 0
    event_ids_forgotten: int = 0

    def plus(self, other: Applied) -> Applied:
        """Both writes' counts together (a batch applied in parts)."""
        return Applied(
            self.accepted + other.accepted,
            self.duplicates + other.duplicates,
            self.sessions_dropped + other.sessions_dropped,
            self.event_ids_forgotten + other.event_ids_forgotten,
        )


class Sizes(msgspec.Struct, frozen=True):
    """How much per-visitor state a store holds now (for ``/metrics``); ``event_ids`` is ``None`` where counting
    them would cost a scan."""

    sessions: int
    event_ids: int | None


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

    async def apply_many(self, writes: Sequence[TrackingWrite]) -> list[Applied]:
        """:meth:`apply` for each write, sent together (pipelined on Redis): loading a history, not serving."""
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

    async def customer_scores(self, customer_id: str) -> RawScores | None:
        """A customer's long-term profile (for the export of what is held about them)."""
        ...

    async def forget_customer(self, customer_id: str) -> int:
        """Delete a customer's long-term profile and unlink every session linked to them; how many were. The
        interaction log keeps its pseudonymous events until it rolls over (``log_length``)."""
        ...


class SegmentRecord(msgspec.Struct, frozen=True, array_like=True):
    """A customer's segment as of the last segmentation run."""

    customer_id: str
    segment: str
    rfm: str
    winback_stage: int
    price_sensitivity: int


class SegmentRun(msgspec.Struct, frozen=True, kw_only=True):
    """Which segmentation is live: its analysis date and the count per segment."""

    version: int
    as_of_ms: int
    counts: dict[str, int]


class SegmentStore(Protocol):
    """The latest segmentation, replaced whole so readers never see two runs mixed."""

    async def replace(self, as_of_ms: int, records: Sequence[SegmentRecord]) -> SegmentRun:
        """Store a complete run and make it the live one in one step; the previous run is dropped."""
        ...

    async def current(self) -> SegmentRun | None:
        """The live run, if any."""
        ...

    async def of(self, customer_id: str) -> SegmentRecord | None:
        """A customer's record in the live run."""
        ...

    async def members(self, segment: str, cursor: str | None, limit: int) -> tuple[list[SegmentRecord], str | None]:
        """Customers of a segment in id order after ``cursor``; and the next cursor, ``None`` at the end."""
        ...


CouponDecide = Callable[[Coupon | None], tuple[Coupon | None, Any]]
"""Pure: given the stored coupon, the coupon to write (``None``: no write) and the caller's result."""


class CouponStore(Protocol):
    """Campaigns and their single-use codes; a code, once stored, is never stored again."""

    async def add_campaign(self, campaign: Campaign) -> bool:
        """Store a campaign unless its id exists; whether it was stored."""
        ...

    async def campaign(self, campaign_id: str) -> Campaign | None:
        """One campaign."""
        ...

    async def add_codes(self, coupons: Sequence[Coupon]) -> list[str]:
        """Store each coupon whose code is new; returns the codes that already existed (not stored)."""
        ...

    async def coupon(self, code: str) -> Coupon | None:
        """One coupon by its normalised code."""
        ...

    async def transact(self, code: str, decide: CouponDecide) -> Any:
        """Atomically read a coupon, decide, write: concurrent redemptions of one code serialise."""
        ...

    async def forget_customer(self, customer_id: str) -> list[str]:
        """Delete a customer's unused codes and the index of their codes (used ones stay, with the order they paid
        for); the codes deleted."""
        ...

    async def for_customer(self, customer_id: str) -> list[Coupon]:
        """Coupons assigned to a customer."""
        ...


class ConfigStore(Protocol):
    """Versioned documents people edit (the banner file): each put is a new version, atomically."""

    async def get(self, name: str) -> tuple[int, bytes] | None:
        """The latest version number and content, or ``None``."""
        ...

    async def put(self, name: str, content: bytes) -> int:
        """Store new content; returns its version (1, 2, …)."""
        ...


class ExperimentStore(Protocol):
    """Experiments' units (each recorded at its first exposure) and their arms' running sums; orders move both through
    :meth:`LedgerStore.act`, page views record exposures through :meth:`Store.page_view`."""

    async def expose(self, exposures: Sequence[Exposure], now_ms: int) -> int:
        """Record each unit's first exposure (a later one writes nothing); how many were first. Page views do this
        in their own call; this one is for exposures outside a page (a campaign's send)."""
        ...

    async def unit(self, experiment_id: str, unit: str) -> UnitRecord | None:
        """One unit's record."""
        ...

    async def arm_sums(self, experiment_id: str, arms: Sequence[str]) -> dict[str, Sums]:
        """The running sums of each arm (empty for an arm without units): one read per arm, whatever its size."""
        ...

    async def count_clicks(self, clicks: Sequence[tuple[str, str, str]]) -> int:
        """Count each ``(experiment id, unit, placement)`` click for the unit's arm when the unit was exposed; how
        many counted."""
        ...


class PageReads(msgspec.Struct, frozen=True):
    """Everything one page view reads from the store, fetched together (one round trip on Redis): the
    session's profile and, for a signed customer, their ledger, live segment record and coupons."""

    profile: RawProfile
    ledger: Ledger | None = None
    segment: SegmentRecord | None = None
    coupons: tuple[Coupon, ...] = ()


class Store(Protocol):
    """One backend: its concerns plus lifecycle."""

    shared: bool
    """Whether other processes and hosts see the same state (Redis), or it lives in this process (memory)."""

    @property
    def catalog(self) -> CatalogStore:
        """Catalog items."""
        ...

    @property
    def tracking(self) -> TrackingStore:
        """Profiles, trending and de-duplication."""
        ...

    @property
    def ledger(self) -> LedgerStore:
        """Loyalty ledgers and orders."""
        ...

    @property
    def segments(self) -> SegmentStore:
        """The live customer segmentation."""
        ...

    @property
    def coupons(self) -> CouponStore:
        """Coupon campaigns and codes."""
        ...

    @property
    def config(self) -> ConfigStore:
        """Versioned configuration documents."""
        ...

    @property
    def experiments(self) -> ExperimentStore:
        """Experiment units and arm sums."""
        ...

    async def page_view(
        self,
        session_id: str,
        write: TrackingWrite | None,
        customer_id: str | None,
        exposures: Sequence[Exposure] = (),
        now_ms: int = 0,
    ) -> PageReads:
        """Apply the page's tracking write (when there is one) and record its experiment exposures (a unit's first
        only, at ``now_ms``, with the signed customer's lifetime spend as the covariate where asked), then read the
        session's profile and, when ``customer_id`` is given, that customer's ledger, segment and coupons: one round
        trip on Redis."""
        ...

    async def ping(self) -> bool:
        """Whether the backend answers."""
        ...

    async def sizes(self) -> Sizes:
        """How many sessions (and remembered event ids) it holds."""
        ...

    async def claim_once(self, name: str) -> bool:
        """True for exactly one caller across all processes sharing the store (e.g. who loads the demo)."""
        ...

    async def lease(self, name: str, seconds: float) -> bool:
        """True for one caller per ``seconds`` across all processes (e.g. who runs a periodic job now)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
