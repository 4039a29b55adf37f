"""``POST /v1/page``: one call per page view, from the browser or the shop's front end."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.datastructures import State
from litestar.params import JSONBody

from loyalty_nudges.ledger import Ledger
from personalize import money
from personalize.api.responses import errors
from personalize.clock import now_ms
from personalize.limits import limit_by_address
from personalize.loyalty.orders import LoyaltyState, state_of
from personalize.pages.banners import banners_for
from personalize.pages.compose import PageState, compose
from personalize.pages.nudges import next_tier_nudge
from personalize.pages.types import CustomerSummary, PageRequest, PageResponse, new_session_id, placements_for
from personalize.runtime import Runtime
from personalize.store.protocols import PageReads, RawProfile, StoreFull, StoreUnavailable
from personalize.tracking.landing import landing_source
from personalize.tracking.profiles import merged_scores
from personalize.tracking.scoring import ProductView, TrackingWrite, score_events


@post("/v1/page", status_code=200, tags=["pages"], guards=[limit_by_address], responses=errors(400, 413, 429))
async def page_view(data: JSONBody[PageRequest], state: State, request: Request[Any, Any, Any]) -> PageResponse:
    """Record this page view (a product view on product pages; the session's landing source on its first
    page) and return what the page shows: the session id (assigned when absent), the signed customer's
    standing, banners, recommendations per placement and nudges. Placements default by page type; every
    item's ``reason`` names what served it. When the store cannot be reached the page is still answered,
    with non-personal content (trending held in the process) and no customer standing."""
    runtime: Runtime = state.runtime
    runtime.limits.check_session(request, data.session_id)
    for index, line in enumerate(data.page.cart):  # refused before anything is recorded
        if line.price is not None:
            money.minor_units(line.price, runtime.settings.loyalty.currency, f"page.cart[{index}].price")
    now = now_ms()
    session_id = data.session_id or new_session_id()
    customer_id = runtime.customer_from(data.customer_token) if data.consent else None
    source = _source(runtime, data, request)
    reads = await _read_and_record(runtime, data, session_id, customer_id, now, source)
    if reads is None:
        reads, customer_id = PageReads(RawProfile(None, None, None, landing_source=source)), None
    raw = reads.profile
    scores = merged_scores(raw, runtime.decay, runtime.settings.tracking.customer_profile_weight, now)
    page = PageState(runtime, data, customer_id or raw.customer_id, scores, raw.recent, now)
    loyalty = _loyalty(runtime, customer_id, reads, now) if customer_id else None
    # the nudge picks its gap-fillers first; the placements then leave them out (no item twice on a page)
    nudges = next_tier_nudge(page, reads.ledger) if customer_id and data.page.type == "cart" else []
    page.blocked.update(item.item_id for nudge in nudges for item in nudge.items)
    country = request.headers.get(runtime.settings.country_header)
    return PageResponse(
        session_id=session_id,
        customer=_summary(loyalty) if loyalty else None,
        banners=banners_for(page, reads, loyalty, country),
        recommendations=await compose(page, placements_for(data), data.limit),
        nudges=nudges,
    )


async def _read_and_record(
    runtime: Runtime, data: PageRequest, session_id: str, customer_id: str | None, now: int, source: str | None
) -> PageReads | None:
    """The view's write (if the page records anything) and the page's reads, in one store call (one round trip
    on Redis); ``None`` when the store is down."""
    if not data.consent:
        return PageReads(RawProfile(None, None, None, landing_source=source))
    if runtime.store_down():
        runtime.metrics.degraded_pages.inc()
        return None
    write = _view(runtime, data, session_id, customer_id, now, source)
    try:
        try:
            return await runtime.store.page_view(session_id, write, customer_id)
        except StoreFull:
            # the store answers but takes no writes (out of memory): the page goes unrecorded, not unread
            if write is None:
                raise
            runtime.metrics.unrecorded_pages.inc()
            return await runtime.store.page_view(session_id, None, customer_id)
    except StoreUnavailable as exc:
        runtime.store_failed(exc)
        runtime.metrics.degraded_pages.inc()
        return None


def _source(runtime: Runtime, data: PageRequest, request: Request[Any, Any, Any]) -> str | None:
    context = data.context
    own = {*runtime.settings.site_hosts, request.url.hostname or ""}
    return landing_source(context.utm_source, context.referrer, context.landing_url, own)


def _view(
    runtime: Runtime, data: PageRequest, session_id: str, customer_id: str | None, now: int, source: str | None
) -> TrackingWrite | None:
    """What the page view records: a product view, the customer link, the landing source (or nothing)."""
    events = [ProductView(item_id=data.page.item_id)] if data.page.type == "product" and data.page.item_id else []
    if not events and not customer_id and not source:
        return None
    scored, _ = score_events(events, runtime.catalog, runtime.settings, now)
    return TrackingWrite(session_id, customer_id, now, tuple(scored), source)


def _loyalty(runtime: Runtime, customer_id: str, reads: PageReads, now: int) -> LoyaltyState:
    segment = reads.segment.segment if reads.segment else None
    return state_of(runtime, reads.ledger or Ledger(customer_id=customer_id), now, segment)


def _summary(state: LoyaltyState) -> CustomerSummary:
    return CustomerSummary(
        id=state.customer_id,
        tier=state.tier,
        discount_pct=state.discount_pct,
        points=state.points,
        qualifying_spend=state.qualifying_spend,
        segment=state.segment,
    )
