"""Banners of one page view: the visitor's context for the rules, the template values, exposure counts."""

from __future__ import annotations

from banners import BannerContext, TemplateValues
from loyalty_nudges.ledger import Ledger
from personalize import money
from personalize.loyalty.coupons import best_coupon
from personalize.loyalty.orders import LoyaltyState, next_tier
from personalize.pages.compose import PageState
from personalize.pages.nudges import cart_minor
from personalize.pages.types import Banner
from personalize.store.protocols import PageReads


def country_of(state: PageState, header_value: str | None) -> str | None:
    """The page context's country, else the CDN header's (ignoring its unknown/Tor markers)."""
    country = state.request.context.country or header_value
    if not country or len(country) != 2 or country.upper() in ("XX", "T1"):
        return None
    return country.upper()


def banners_for(
    state: PageState, reads: PageReads, loyalty: LoyaltyState | None, header_country: str | None
) -> list[Banner]:
    """Choose the page's banners and count each exposure (held-out ones too) per banner and arm."""
    runtime, customer_id, ledger = state.runtime, state.customer_id, reads.ledger
    has_ordered = bool(ledger and ledger.history)
    context = BannerContext(
        page_type=state.request.page.type,
        landing_source=reads.profile.landing_source,
        country=country_of(state, header_country),
        returning=bool(state.request.context.returning) or has_ordered,
        has_ordered=has_ordered,
        tier=loyalty.tier if loyalty else None,
        segment=loyalty.segment if loyalty else None,
        engagement=loyalty.engagement_score if loyalty else None,
        cart_total_minor=cart_minor(state),
        locale=state.request.context.locale,
        now_ms=state.now,
        subject=customer_id or state.request.session_id or "",
    )
    choice = runtime.banners.compiled.choose(context, _values(state, reads, loyalty))
    for banner_id, arm in choice.exposures():
        runtime.metrics.banner_exposures.labels(banner_id, arm).inc()
    return [
        Banner(
            id=c.id,
            slot=c.slot,
            title=c.title,
            text=c.text,
            link=c.link,
            image=c.image,
            coupon_code=c.coupon_code,
            arm=c.arm,
        )
        for c in choice.shown
    ]


def _values(state: PageState, reads: PageReads, loyalty: LoyaltyState | None) -> TemplateValues:
    if loyalty is None or state.customer_id is None:
        return TemplateValues()
    tier = state.runtime.settings.loyalty.tier_named(loyalty.tier)
    coupon = best_coupon(reads.coupons, state.now)
    _, missing = next_tier(state.runtime, reads.ledger or Ledger(customer_id=state.customer_id), state.now)
    currency = state.runtime.settings.loyalty.currency
    remaining = money.format_amount(missing, currency) if missing is not None else None
    return TemplateValues(
        first_name=None,
        tier=tier.title if tier else None,
        discount_pct=f"{loyalty.discount_pct:g}" if tier else None,
        remaining=remaining,
        coupon_code=coupon.code if coupon else None,
    )
