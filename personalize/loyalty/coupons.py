"""Coupon campaigns and redemption at the edge: wire types, issuing codes to an audience, atomic redemption."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from loyalty_nudges import coupons as rules
from loyalty_nudges.coupons import Audience, Campaign, Coupon
from personalize import money
from personalize.clock import MAX_EPOCH_MS, WireTime, check_time, epoch_ms
from personalize.errors import ApiError
from personalize.loyalty.orders import Id
from personalize.openapi import schema
from personalize.runtime import Runtime

HOUR_MS = 3_600_000
_REFUSALS: dict[str, tuple[int, str]] = {
    "unknown": (404, "no such coupon code"),
    "used": (409, "this code has already been used by another order"),
    "expired": (409, "this code has expired"),
    "not_yet_valid": (409, "this code is not valid yet"),
    "not_yours": (403, "this code belongs to another customer"),
}

# litestar drops the bound 0 of an optional number: stated again for the schema
DiscountPct = Annotated[Annotated[float, Meta(gt=0, le=100)], schema(exclusive_minimum=0, maximum=100)]


class CampaignIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/coupons/campaigns``: one code per customer of the audience (plus ``unassigned``)."""

    campaign_id: Id
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    discount_pct: DiscountPct | None = None
    discount_amount: money.OptionalAmount = None
    prefix: Annotated[str, Meta(max_length=12, pattern=r"^[A-Za-z0-9-]*$")] = ""
    length: Annotated[int, Meta(ge=rules.MIN_LENGTH, le=32)] = 12
    valid_from: WireTime | None = None
    valid_hours: Annotated[float, Meta(gt=0, le=24 * 366)] = 48
    audience: Audience = msgspec.field(default_factory=Audience)
    unassigned: Annotated[int, Meta(ge=0, le=100_000)] = 0

    def __post_init__(self) -> None:
        check_time(self.valid_from, "valid_from")
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


def coupon_out(coupon: Coupon, currency: str) -> CouponOut:
    """The wire form of a coupon."""
    return CouponOut(
        code=coupon.code,
        campaign_id=coupon.campaign_id,
        discount_pct=coupon.discount_pct,
        discount_amount=money.to_major(coupon.discount_minor, currency),
        valid_from=_time(coupon.valid_from_ms),
        expires_at=_time(coupon.expires_at_ms),
        customer_id=coupon.customer_id,
        used_by_order=coupon.used_by_order,
    )


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


async def create_campaign(runtime: Runtime, body: CampaignIn, now_ms: int) -> CampaignOut:
    """Store the campaign (409 if its id exists) and issue unique codes to its audience."""
    currency = runtime.settings.loyalty.currency
    start_ms = epoch_ms(body.valid_from) if body.valid_from is not None else now_ms
    expires_ms = start_ms + int(body.valid_hours * HOUR_MS)
    campaign = Campaign(
        campaign_id=body.campaign_id,
        name=body.name,
        discount_pct=body.discount_pct or 0.0,
        discount_minor=(
            money.minor_units(body.discount_amount, currency, "discount_amount")
            if body.discount_amount is not None
            else 0
        ),
        prefix=body.prefix,
        length=body.length,
        valid_from_ms=start_ms,
        expires_at_ms=expires_ms,
        audience=body.audience,
        unassigned=body.unassigned,
    )
    if not await runtime.store.coupons.add_campaign(campaign):
        raise ApiError(409, "conflict", f"campaign {body.campaign_id!r} exists already", "campaign_id")
    customers = await _audience(runtime, body.audience, now_ms)
    owners: list[str | None] = [*customers, *([None] * body.unassigned)]
    codes = await _issue(runtime, campaign, owners)
    return CampaignOut(
        campaign_id=campaign.campaign_id,
        codes_issued=len(codes),
        assigned=len(customers),
        entropy_bits=round(rules.entropy_bits(body.length), 1),
        expires_at=_time(expires_ms),
        sample=codes[:3],
    )


async def _audience(runtime: Runtime, audience: Audience, now_ms: int) -> list[str]:
    found = list(audience.customer_ids)
    if not (audience.tiers or audience.segments or audience.min_score is not None or audience.max_score is not None):
        return found
    async for ledger in runtime.store.ledger.ledgers():
        if ledger.customer_id in audience.customer_ids:
            continue
        segment = await runtime.segment_of(ledger.customer_id) if audience.segments else None
        if audience.matches(ledger.customer_id, ledger.tier, ledger.engagement, segment):
            found.append(ledger.customer_id)
    return found


async def _issue(runtime: Runtime, campaign: Campaign, owners: list[str | None]) -> list[str]:
    """Codes for every owner, re-drawing the rare code that collides with any ever issued."""
    pending = [_coupon(campaign, owner) for owner in owners]
    issued: list[str] = []
    while pending:
        taken = set(await runtime.store.coupons.add_codes(pending))
        issued += [c.code for c in pending if c.code not in taken]
        pending = [_coupon(campaign, c.customer_id) for c in pending if c.code in taken]
    return issued


def _coupon(campaign: Campaign, owner: str | None) -> Coupon:
    return Coupon(
        code=rules.generate_code(campaign.length, campaign.prefix),
        campaign_id=campaign.campaign_id,
        discount_pct=campaign.discount_pct,
        discount_minor=campaign.discount_minor,
        valid_from_ms=campaign.valid_from_ms,
        expires_at_ms=campaign.expires_at_ms,
        customer_id=owner,
    )


async def redeem(runtime: Runtime, code: str, body: RedeemIn, now_ms: int) -> CouponOut:
    """Use a code for an order, atomically; the same order again is the same success."""
    normal = rules.normalize(code)

    def decide(coupon: Coupon | None) -> tuple[Coupon | None, tuple[Coupon | None, str | None]]:
        updated, refusal = rules.redeem(coupon, body.customer_id, body.order_id, now_ms)
        write = updated if updated is not None and coupon is not None and updated != coupon else None
        return write, (updated, refusal)

    updated, refusal = await runtime.store.coupons.transact(normal, decide)
    if refusal is not None or updated is None:
        status, message = _REFUSALS[refusal or "unknown"]
        raise ApiError(status, f"coupon_{refusal}", f"{normal}: {message}", "code")
    return coupon_out(updated, runtime.settings.loyalty.currency)


def best_coupon(coupons: Iterable[Coupon], now_ms: int) -> Coupon | None:
    """The most valuable of a customer's codes usable right now (for banners)."""
    usable = [c for c in coupons if c.used_by_order is None and c.valid_from_ms <= now_ms < c.expires_at_ms]
    return max(usable, key=lambda c: (c.discount_pct, c.discount_minor, -c.expires_at_ms), default=None)
