"""The loyalty side's wire types: orders and refunds, a customer's loyalty state, coupons, segments and totals, rewards
and the outbox (customer records: ``customer_types.py``).

Money is a JSON number in the shop currency (decoded exactly; ``personalize.money`` judges its decimals), times
are epoch milliseconds or ISO 8601.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from loyalty_nudges.coupons import CHOSEN_PATTERN, MIN_LENGTH, Audience, check_chosen
from personalize import money
from personalize.catalog.items import ItemId
from personalize.clock import MAX_EPOCH_MS, WireTime, check_time, epoch_ms
from personalize.openapi import schema

Id = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:@\-]+$")]
HOUR_MS = 3_600_000
# litestar drops the bound 0 of an optional number: stated again for the schema
DiscountPct = Annotated[Annotated[float, Meta(gt=0, le=100)], schema(exclusive_minimum=0, maximum=100)]


class OrderLineIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One order line; ``price`` is the unit price paid."""

    item_id: ItemId
    quantity: Annotated[int, Meta(ge=1, le=10_000)] = 1
    price: money.Amount
    on_promotion: bool = False

    def __post_init__(self) -> None:
        money.check_amount(self.price, "price")


class OrderIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/orders``: a completed order, idempotent on ``order_id``."""

    order_id: Id
    customer_id: Id
    items: Annotated[list[OrderLineIn], Meta(min_length=1, max_length=500)]
    total: money.Amount
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
    completed_at: WireTime
    session_id: Annotated[str, Meta(max_length=64)] | None = None
    coupon_code: Annotated[str, Meta(max_length=64)] | None = None

    def __post_init__(self) -> None:
        check_time(self.completed_at, "completed_at")
        money.check_amount(self.total, "total")


class RefundIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/orders/{order_id}/refunds``: without ``amount`` the rest of the order is refunded."""

    refund_id: Id
    amount: money.OptionalAmount = None
    reason: Annotated[str, Meta(max_length=200)] | None = None

    def __post_init__(self) -> None:
        if self.amount is not None:
            money.check_amount(self.amount, "amount")


class Expiry(msgspec.Struct):
    """The next points to expire and when."""

    points: int
    expires_at: datetime


class KeepTierOut(msgspec.Struct, kw_only=True):
    """What keeps the tier at the next evaluation that would lower it: spend ``remaining`` more (on a points basis,
    earn ``points`` more) by the end of ``by`` (UTC)."""

    tier: str
    remaining: float
    points: int | None = None
    by: date


class LoyaltyState(msgspec.Struct, kw_only=True):
    """``GET /v1/customers/{customer_id}/loyalty``: money in the shop currency."""

    customer_id: str
    tier: str | None
    discount_pct: float
    qualifying_spend: float
    lifetime_spend: float
    points: int
    pending_points: int
    engagement_score: float
    next_tier: str | None
    remaining: float | None
    """The spend that reaches ``next_tier``."""
    next_expiry: Expiry | None
    segment: str | None
    orders: int
    tier_basis: str = "spend"
    qualifying_points: int | None = None
    """Points earned in the window, on a points tier basis."""
    keep_tier: KeepTierOut | None = None
    """Set when the next evaluation would lower the tier (``rolling_365d`` and ``calendar_year`` programs)."""


class OrderResult(msgspec.Struct, kw_only=True):
    """Response of ``POST /v1/orders``; a replay returns the first response with ``duplicate: true``."""

    order_id: str
    duplicate: bool
    tier_changed: bool
    tier_before: str | None
    points_earned: int
    """Purchase points (each line with its multiplier) and the bonus of the challenges it completed."""
    challenges_completed: list[str] = msgspec.field(default_factory=list)
    """Ids of the weekly challenges this order completed (their bonus is in ``points_earned``)."""
    qualifying_amount: float
    loyalty: LoyaltyState


class RefundResult(msgspec.Struct, kw_only=True):
    """Response of a refund; a replayed ``refund_id`` returns what it did with ``duplicate: true``."""

    order_id: str
    refund_id: str
    duplicate: bool
    amount: float
    refunded_total: float
    remaining: float
    qualifying_reversed: float
    points_reversed: int
    tier_reverted: bool
    loyalty: LoyaltyState


class CampaignIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/coupons/campaigns``: one code per customer of the audience (plus ``unassigned``)."""

    campaign_id: Id
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    discount_pct: DiscountPct | None = None
    discount_amount: money.OptionalAmount = None
    prefix: Annotated[str, Meta(max_length=12, pattern=r"^[A-Za-z0-9-]*$")] = ""
    length: Annotated[int, Meta(ge=MIN_LENGTH, le=32)] = 12
    valid_from: WireTime | None = None
    valid_hours: Annotated[float, Meta(gt=0, le=24 * 366)] = 48
    audience: Audience = msgspec.field(default_factory=Audience)
    unassigned: Annotated[int, Meta(ge=0, le=100_000)] = 0
    code: Annotated[str, Meta(max_length=80, pattern=CHOSEN_PATTERN)] | None = None
    """A code of the shop's choosing (``FBWELCOME10``) that every customer may use once, instead of unique codes:
    then no ``audience`` or ``unassigned``."""

    def __post_init__(self) -> None:
        check_time(self.valid_from, "valid_from")
        if self.code is not None:
            self.code = check_chosen(self.code)
            if self.unassigned or self.audience != Audience():
                raise ValueError("code: a shared code is for everyone, so give no audience and no unassigned codes")
        if self.valid_from is not None and epoch_ms(self.valid_from) + self.valid_hours * HOUR_MS > MAX_EPOCH_MS:
            raise ValueError(f"valid_hours {self.valid_hours:g} would make the codes expire after the year 5138")
        if (self.discount_pct is None) == (self.discount_amount is None):
            raise ValueError("discount_pct or discount_amount: give exactly one")
        if self.discount_amount is not None:
            money.check_amount(self.discount_amount, "discount_amount")


class CampaignOut(msgspec.Struct, kw_only=True):
    """What a campaign issued."""

    campaign_id: str
    codes_issued: int
    assigned: int
    entropy_bits: float
    expires_at: datetime
    sample: list[str]


class RedeemIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/coupons/{code}/redeem``."""

    order_id: Id
    customer_id: Id


class CouponOut(msgspec.Struct, kw_only=True):
    """A coupon as the API shows it."""

    code: str
    campaign_id: str
    discount_pct: float
    discount_amount: float
    valid_from: datetime
    expires_at: datetime
    customer_id: str | None
    used_by_order: str | None
    shared: bool = False
    """A shared code: every customer may use it once (``used_by_order`` stays null)."""
    benefit: str = "discount"
    """``discount`` (the amounts above), ``free_shipping`` or ``item`` (a reward's item or experience)."""


class Stats(msgspec.Struct, kw_only=True):
    """``GET /v1/admin/stats``: totals across all customers; money in the shop currency, exact to the cent."""

    customers: int
    orders: int
    lifetime_spend: float
    currency: str
    per_tier: dict[str, int]
    per_segment: dict[str, int]
    segments_as_of: datetime | None


class SegmentCounts(msgspec.Struct, kw_only=True):
    """Customers per segment in the live run and its analysis date (``null`` before the first run)."""

    as_of: datetime | None
    counts: dict[str, int]


class Member(msgspec.Struct, kw_only=True):
    """A customer of a segment: RFM code, win-back stage (0–3), price-sensitivity decile (1–10)."""

    customer_id: str
    rfm: str
    winback_stage: int
    price_sensitivity: int


class MemberPage(msgspec.Struct, kw_only=True):
    """One page of a segment's customers; pass ``next_cursor`` back as ``cursor``."""

    segment: str
    customers: list[Member]
    next_cursor: str | None


class RewardOut(msgspec.Struct, kw_only=True):
    """A reward of the program as ``GET /v1/rewards`` lists it; ``affordable`` when a signed customer's
    spendable points cover it (null without a customer)."""

    id: str
    title: str
    cost: int
    kind: str
    percent: float | None
    amount: float | None
    tiers: list[str]
    available_until: datetime | None
    left: int | None
    """Units of a limited reward still to be had (null: unlimited)."""
    affordable: bool | None
    points_missing: int | None
    """Points still missing for a signed customer (0 once affordable)."""


class RewardList(msgspec.Struct, kw_only=True):
    """``GET /v1/rewards``: the rewards open now (to a signed customer's tier, with their balance)."""

    rewards: list[RewardOut]
    points: int | None
    """The signed customer's spendable balance (null without a token)."""


class RedemptionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/customers/{customer_id}/redemptions``: idempotent on ``redemption_id``."""

    redemption_id: Id
    reward_id: Annotated[str, Meta(min_length=1, max_length=64)]


class RedemptionOut(msgspec.Struct, kw_only=True):
    """A redemption: what it cost, the code it issued, the balance after it; a replay says ``duplicate: true``."""

    redemption_id: str
    customer_id: str
    reward_id: str
    points_spent: int
    points: int
    """The customer's spendable balance now."""
    coupon: CouponOut | None
    """The code it issued (null once the customer was erased, which deletes unused codes)."""
    redeemed_at: datetime
    cancelled_at: datetime | None
    duplicate: bool = False


class NoticeOut(msgspec.Struct, kw_only=True):
    """One loyalty change in the outbox; ``id`` increases in the order the changes happened."""

    id: str
    kind: str
    customer_id: str
    at: datetime
    data: dict[str, Any]


class NoticePage(msgspec.Struct, kw_only=True):
    """``GET /v1/admin/events``: notices after ``after``, oldest first; ``next_after`` to read on (null: none)."""

    events: list[NoticeOut]
    next_after: str | None
