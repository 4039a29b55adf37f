"""Coupon campaigns and redemption at the edge: issuing unique codes to an audience, atomic redemption."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from loyalty_nudges import coupons as rules
from loyalty_nudges.coupons import Audience, Benefit, Campaign, Coupon
from personalize import money
from personalize.clock import epoch_ms, utc
from personalize.errors import Conflict, Forbidden, NotFound, ServiceError
from personalize.loyalty.types import HOUR_MS, CampaignIn, CampaignOut, CouponOut, RedeemIn
from personalize.runtime import Runtime

_REFUSALS: dict[str, tuple[type[ServiceError], str]] = {
    "unknown": (NotFound, "no such coupon code"),
    "used": (Conflict, "this code has already been used by another order"),
    "expired": (Conflict, "this code has expired"),
    "not_yet_valid": (Conflict, "this code is not valid yet"),
    "not_yours": (Forbidden, "this code belongs to another customer"),
}


def coupon_out(coupon: Coupon, currency: str) -> CouponOut:
    """The wire form of a coupon."""
    return CouponOut(
        code=coupon.code,
        campaign_id=coupon.campaign_id,
        discount_pct=coupon.discount_pct,
        discount_amount=money.to_major(coupon.discount_minor, currency),
        valid_from=utc(coupon.valid_from_ms),
        expires_at=utc(coupon.expires_at_ms),
        customer_id=coupon.customer_id,
        used_by_order=coupon.used_by_order,
        shared=coupon.shared,
    )


async def create_campaign(runtime: Runtime, body: CampaignIn, now_ms: int) -> CampaignOut:
    """Store the campaign (a conflict if its id exists) and issue unique codes to its audience."""
    currency = runtime.settings.currency
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
    if body.code is not None:
        return await _shared_campaign(runtime, campaign, body.code)
    customers = await _audience(runtime, body.audience)
    if not await runtime.store.coupons.add_campaign(campaign):
        raise Conflict(f"campaign {body.campaign_id!r} exists already", "campaign_id")
    owners: list[str | None] = [*customers, *([None] * body.unassigned)]
    codes = await _issue(runtime, campaign, owners)
    return CampaignOut(
        campaign_id=campaign.campaign_id,
        codes_issued=len(codes),
        assigned=len(customers),
        entropy_bits=round(rules.entropy_bits(body.length), 1),
        expires_at=utc(expires_ms),
        sample=codes[:3],
    )


async def _shared_campaign(runtime: Runtime, campaign: Campaign, code: str) -> CampaignOut:
    """A campaign of one shared code. Both the campaign id and the code must be new: they are checked before
    either is written, so a refusal writes nothing (two creations racing for one code: the second campaign is
    stored without it, and its answer says so)."""
    store = runtime.store.coupons
    if await store.campaign(campaign.campaign_id) is not None:
        raise Conflict(f"campaign {campaign.campaign_id!r} exists already", "campaign_id")
    if await store.coupon(code) is not None:
        raise Conflict(f"the code {code} exists already", "code", code="coupon_exists")
    if not await store.add_campaign(campaign):
        raise Conflict(f"campaign {campaign.campaign_id!r} exists already", "campaign_id")
    shared = msgspec.structs.replace(_coupon(campaign, None), code=code, shared=True)
    if await store.add_codes([shared]):
        raise Conflict(f"the code {code} was taken meanwhile by another campaign", "code", code="coupon_exists")
    return CampaignOut(
        campaign_id=campaign.campaign_id,
        codes_issued=1,
        assigned=0,
        entropy_bits=0.0,
        expires_at=utc(campaign.expires_at_ms),
        sample=[code],
    )


async def _audience(runtime: Runtime, audience: Audience) -> list[str]:
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


def single_use(
    campaign_id: str,
    customer_id: str,
    *,
    prefix: str,
    valid_from_ms: int,
    expires_at_ms: int,
    discount_pct: float = 0.0,
    discount_minor: int = 0,
    benefit: Benefit = "discount",
) -> Coupon:
    """A fresh single-use code of one customer, as rewards and actions issue them (``reward:<id>``,
    ``action:<name>``); written inside the change that earned it."""
    return Coupon(
        code=rules.generate_code(12, prefix),
        campaign_id=campaign_id,
        discount_pct=discount_pct,
        discount_minor=discount_minor,
        valid_from_ms=valid_from_ms,
        expires_at_ms=expires_at_ms,
        customer_id=customer_id,
        benefit=benefit,
    )


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


async def find(runtime: Runtime, code: str) -> Coupon | None:
    """A code as a customer typed it (any case, hyphens and spaces ignored); never a shared code's use record."""
    normal = rules.normalize(code)
    return None if rules.USE_MARK in normal else await runtime.store.coupons.coupon(normal)


async def redeem(runtime: Runtime, code: str, body: RedeemIn, now_ms: int) -> CouponOut:
    """Use a code for an order, atomically; the same order again is the same success. A shared code is used
    through the customer's own use of it (:func:`loyalty_nudges.coupons.use_of`): once per customer."""
    normal = rules.normalize(code)
    found = await find(runtime, normal)
    if found is None:
        raise NotFound(f"{normal}: {_REFUSALS['unknown'][1]}", "code", code="coupon_unknown")
    fresh = rules.use_of(found, body.customer_id) if found.shared else None

    def decide(stored: Coupon | None) -> tuple[Coupon | None, tuple[Coupon | None, str | None]]:
        current = stored if stored is not None else fresh
        updated, refusal = rules.redeem(current, body.customer_id, body.order_id, now_ms)
        write = updated if updated is not None and updated != stored else None
        return write, (updated, refusal)

    updated, refusal = await runtime.store.coupons.transact(fresh.code if fresh else found.code, decide)
    if refusal is not None or updated is None:
        kind, message = _REFUSALS[refusal or "unknown"]
        raise kind(f"{normal}: {message}", "code", code=f"coupon_{refusal or 'unknown'}")
    return coupon_out(updated, runtime.settings.currency)


async def usable(runtime: Runtime, code: str, customer_id: str, now_ms: int) -> tuple[Coupon | None, str | None]:
    """Whether a customer could redeem a code now, without redeeming it: the coupon, or the refusal's words (a
    checkout shows either before the order is placed; :func:`redeem` decides again, atomically)."""
    found = await find(runtime, code)
    current = found
    if found is not None and found.shared:
        fresh = rules.use_of(found, customer_id)
        current = await runtime.store.coupons.coupon(fresh.code) or fresh
    _, refusal = rules.redeem(current, customer_id, "", now_ms)
    return (found, None) if refusal is None else (None, _REFUSALS[refusal][1])


def best_coupon(coupons: Iterable[Coupon], now_ms: int) -> Coupon | None:
    """The most valuable of a customer's codes usable right now (for banners)."""
    usable = [
        c for c in coupons if c.used_by_order is None and not c.voided and c.valid_from_ms <= now_ms < c.expires_at_ms
    ]
    return max(usable, key=lambda c: (c.discount_pct, c.discount_minor, -c.expires_at_ms), default=None)
