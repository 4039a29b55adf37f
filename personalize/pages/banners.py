"""Banners of one page view: the visitor's context for the rules, the template values, exposure counts."""

from __future__ import annotations

from collections.abc import Callable

from banners import BannerContext, BannerSet, TemplateValues
from loyalty_nudges.experiment_sums import Exposure
from personalize import money
from personalize.experiments.assignment import NO_STOP, exposure
from personalize.experiments.definitions import Experiment
from personalize.loyalty.coupons import best_coupon
from personalize.pages.context import PageContext
from personalize.pages.types import Banner

Exposed = Callable[[str, str], None]
"""Counts one exposure of ``(banner id, arm)``."""


def country_of(ctx: PageContext, header_value: str | None) -> str | None:
    """The page context's country, else the CDN header's (ignoring its unknown/Tor markers)."""
    country = ctx.request.context.country or header_value
    if not country or len(country) != 2 or country.upper() in ("XX", "T1"):
        return None
    return country.upper()


def banners_for(ctx: PageContext, rules: BannerSet, header_country: str | None, exposed: Exposed) -> list[Banner]:
    """Choose the page's banners and count each exposure (held-out ones too) per banner and arm."""
    standing = ctx.standing
    has_ordered = bool(standing and standing.ledger.history)
    context = BannerContext(
        page_type=ctx.request.page.type,
        landing_source=ctx.landing_source,
        country=country_of(ctx, header_country),
        returning=bool(ctx.request.context.returning) or has_ordered,
        has_ordered=has_ordered,
        tier=standing.ledger.tier if standing else None,
        segment=standing.segment if standing else None,
        engagement=round(standing.ledger.engagement, 3) if standing else None,
        points=standing.points if standing else None,
        reward_within_reach=ctx.reward_within_reach is not None,
        cart_total_minor=ctx.cart_minor,
        locale=ctx.request.context.locale,
        now_ms=ctx.now,
        subject=ctx.customer_id or ctx.session_id,
    )
    choice = rules.choose(context, _values(ctx))
    for banner_id, arm in choice.exposures():
        exposed(banner_id, arm)
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


def banner_test_exposures(
    ctx: PageContext, exposed: list[tuple[str, str]], tests: dict[str, Experiment], shown_slot: Callable[[str], bool]
) -> list[Exposure]:
    """The page's exposures to the banner file's tests: each tested banner that matched (shown or held out) in a
    slot the page shows, for the unit its arm was assigned on (the customer, else the session)."""
    unit = f"c:{ctx.customer_id}" if ctx.customer_id else f"s:{ctx.session_id}"
    found = []
    for banner_id, arm in exposed:
        test = tests.get(banner_id)
        if test is not None and test.slot is not None and shown_slot(test.slot) and test.running(ctx.now):
            found.append(exposure(test.id, test.stop_ms or NO_STOP, unit, arm, ctx.now))
    return found


def _values(ctx: PageContext) -> TemplateValues:
    standing = ctx.standing
    if standing is None:
        return TemplateValues()
    coupon = best_coupon(ctx.coupons, ctx.now)
    missing = standing.remaining_minor
    reach = ctx.reward_within_reach
    return TemplateValues(
        first_name=standing.ledger.record.first_name if standing.ledger.record else None,
        tier=standing.tier.title if standing.tier else None,
        discount_pct=f"{standing.discount_pct:g}" if standing.tier else None,
        remaining=money.format_amount(missing, ctx.currency) if missing is not None else None,
        coupon_code=coupon.code if coupon else None,
        points=str(standing.points),
        reward=reach[0].title if reach else None,
        points_missing=str(reach[1]) if reach else None,
    )
