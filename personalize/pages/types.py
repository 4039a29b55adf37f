"""The page view's wire types: ``POST /v1/page``'s request and response, and the banner rules in service."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from personalize import links, money
from personalize.catalog.items import CategoryPath, Item, ItemId, check_category
from personalize.loyalty.types import Expiry
from personalize.openapi import list_of, schema
from personalize.pages import placements
from personalize.tracking.types import PlacementName, SessionId

PageType = Literal["home", "category", "product", "cart", "checkout", "search", "other"]
Country = Annotated[str, Meta(pattern=r"^[A-Za-z]{2}$")]
# the names are checked by PageRequest.__post_init__ (its message lists them); stated here for the schema
Placements = Annotated[
    Annotated[list[PlacementName], Meta(max_length=10)] | None,
    schema(type=["array", "null"], one_of=None, max_items=10, items={"enum": list(placements.NAMES)}),
]


class CartLine(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One cart line as the page shows it; ``price`` is the unit price."""

    item_id: ItemId
    quantity: Annotated[int, Meta(ge=1, le=1000)] = 1
    price: money.OptionalAmount = None

    def __post_init__(self) -> None:
        if self.price is not None:
            money.check_amount(self.price, "price")


class PageInfo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What page is being viewed: ``category`` on category pages, ``item_id`` on product pages."""

    type: PageType
    category: CategoryPath | None = None
    item_id: ItemId | None = None
    cart: Annotated[list[CartLine], Meta(max_length=200)] = msgspec.field(default_factory=list)
    cart_discount: money.OptionalAmount = None
    """What the visitor will not pay of the cart's lines (member discounts, codes): nudges count what is paid."""
    query: Annotated[str, Meta(max_length=200)] | None = None

    def __post_init__(self) -> None:
        if self.cart_discount is not None:
            money.check_amount(self.cart_discount, "cart_discount")
        if self.type == "product" and self.item_id is None:
            raise ValueError("item_id is required on a product page")
        if self.type == "category" and self.category is None:
            raise ValueError("category is required on a category page")
        if self.category is not None:
            check_category(self.category, "category")


class VisitContext(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where the visitor came from; ``country`` may instead come from a CDN header."""

    referrer: Annotated[str, Meta(max_length=2000)] | None = None
    utm_source: Annotated[str, Meta(max_length=100)] | None = None
    country: Country | None = None
    locale: Annotated[str, Meta(max_length=35)] | None = None
    landing_url: Annotated[str, Meta(max_length=2000)] | None = None
    """The page's own URL, where an ``fbclid`` marks a visitor from Facebook."""
    returning: bool | None = None
    """The snippet's word that this browser visited before (a first-party flag kept after consent)."""

    def __post_init__(self) -> None:
        links.check_parses(self.referrer, "referrer")
        links.check_parses(self.landing_url, "landing_url")


class PageRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/page``. Without ``session_id`` the server starts a session and returns its id."""

    page: PageInfo
    session_id: SessionId | None = None
    customer_token: Annotated[str, Meta(max_length=512)] | None = None
    context: VisitContext = msgspec.field(default_factory=VisitContext)
    placements: Placements = None
    limit: Annotated[int, Meta(ge=1, le=50)] = 8
    exclude: Annotated[list[ItemId], Meta(max_length=100), list_of(ItemId)] = msgspec.field(default_factory=list)
    consent: bool = True
    """False before the visitor consents: nothing is recorded, no profile or customer is used, and only
    non-personal content comes back (trending, geo and landing-source banners)."""

    def __post_init__(self) -> None:
        for index, name in enumerate(self.placements or ()):
            if name not in placements.BY_NAME:
                raise ValueError(f"placements entry {index} {name!r} is not one of {list(placements.NAMES)}")


class RecommendedItem(msgspec.Struct, kw_only=True):
    """One recommended item; ``reason`` names what served it (e.g. ``trending``, ``catalog``)."""

    item_id: str
    title: str
    price: float
    url: str
    image: str
    score: float
    reason: str


class Banner(msgspec.Struct, kw_only=True):
    """A banner chosen for this page view; ``arm`` is its variant or test arm (for attribution)."""

    id: str
    slot: str
    title: str
    text: str
    link: str | None = None
    image: str | None = None
    coupon_code: str | None = None
    arm: str = "control"


class BannersOut(msgspec.Struct, kw_only=True):
    """``GET``/``PUT /v1/admin/banners``: the banner rules in service."""

    version: int
    format: str | None
    content: str | None
    banners: int


class Nudge(msgspec.Struct, kw_only=True):
    """A prompt with items that close the gap: ``next_tier`` ("Spend $500.00 more to reach Bronze"), ``keep_tier``
    ("Spend $120.00 more by 31 Dec to keep Silver"), ``reward_within_reach`` ("50 more points for −20 % on
    everything"). ``remaining`` is the spend that closes it."""

    kind: str
    tier: str | None
    remaining: float
    currency: str
    text: str
    items: list[RecommendedItem]
    by: date | None = None
    """``keep_tier``: the last day (UTC) the spend keeps the tier."""
    points: int | None = None
    """``reward_within_reach``: the points still missing (and ``next_tier`` or ``keep_tier`` on a points basis)."""
    reward_id: str | None = None


class CustomerSummary(msgspec.Struct, kw_only=True):
    """The signed-in customer's loyalty standing (money in the shop currency)."""

    id: str
    tier: str | None = None
    discount_pct: float = 0.0
    points: int = 0
    qualifying_spend: float = 0.0
    segment: str | None = None
    next_expiry: Expiry | None = None
    """The soonest points to expire, and when."""


class PageWarning(msgspec.Struct, frozen=True):
    """Something the page named that the server does not know: the page is still answered, from the fallbacks."""

    code: str
    field: str
    message: str


class PageResponse(msgspec.Struct, kw_only=True):
    """Everything the page shows; ``warnings`` says what the page named that the server did not know."""

    session_id: str
    customer: CustomerSummary | None
    banners: list[Banner]
    recommendations: dict[str, list[RecommendedItem]]
    nudges: list[Nudge]
    warnings: list[PageWarning] = msgspec.field(default_factory=list)


def recommended(item: Item, score: float, reason: str, currency: str) -> RecommendedItem:
    """The wire form of a recommended catalog item."""
    return RecommendedItem(
        item_id=item.item_id,
        title=item.title,
        price=money.to_major(item.price, currency),
        url=item.url,
        image=item.image,
        score=round(score, 6),
        reason=reason,
    )
