"""``POST /v1/page``: one call per page view, from the browser or the shop's front end."""

from __future__ import annotations

from litestar import post
from litestar.datastructures import State
from litestar.params import JSONBody

from loyalty_nudges.ledger import Ledger
from personalize.clock import now_ms
from personalize.composition import PageState, compose
from personalize.loyalty import state_of
from personalize.nudges import next_tier_nudge
from personalize.pages import CustomerSummary, PageRequest, PageResponse, new_session_id, placements_for
from personalize.profiles import merged_scores
from personalize.runtime import Runtime
from personalize.tracking import ProductView, TrackingWrite, score_events


@post("/v1/page", status_code=200, tags=["pages"])
async def page_view(data: JSONBody[PageRequest], state: State) -> PageResponse:
    """Record this page view (a product view on product pages) and return what the page shows: the session
    id (assigned when absent), the signed customer's standing, banners, recommendations per placement and
    nudges. Placements default by page type; every item's ``reason`` names what served it."""
    runtime: Runtime = state.runtime
    now = now_ms()
    session_id = data.session_id or new_session_id()
    customer_id = runtime.customer_from(data.customer_token)
    await _record_view(runtime, data, session_id, customer_id, now)
    raw = await runtime.store.tracking.profile(session_id)
    scores = merged_scores(raw, runtime.decay, runtime.settings.tracking.customer_profile_weight, now)
    page = PageState(runtime, data, customer_id or raw.customer_id, scores, raw.recent, now)
    ledger = await runtime.store.ledger.ledger(customer_id) if customer_id else None
    # the nudge picks its gap-fillers first; the placements then leave them out (no item twice on a page)
    nudges = next_tier_nudge(page, ledger) if customer_id and data.page.type == "cart" else []
    page.blocked.update(item.item_id for nudge in nudges for item in nudge.items)
    return PageResponse(
        session_id=session_id,
        customer=await _customer(runtime, customer_id, ledger, now) if customer_id else None,
        banners=[],
        recommendations=await compose(page, placements_for(data), data.limit),
        nudges=nudges,
    )


async def _customer(runtime: Runtime, customer_id: str, ledger: Ledger | None, now: int) -> CustomerSummary:
    state = state_of(runtime, ledger or Ledger(customer_id=customer_id), now, await runtime.segment_of(customer_id))
    return CustomerSummary(
        id=customer_id,
        tier=state.tier,
        discount_pct=state.discount_pct,
        points=state.points,
        qualifying_spend=state.qualifying_spend,
        segment=state.segment,
    )


async def _record_view(runtime: Runtime, data: PageRequest, session_id: str, customer_id: str | None, now: int) -> None:
    events = [ProductView(item_id=data.page.item_id)] if data.page.type == "product" and data.page.item_id else []
    if not events and not customer_id:
        return
    scored, _ = score_events(events, runtime.catalog, runtime.settings, now)
    await runtime.store.tracking.apply(TrackingWrite(session_id, customer_id, now, tuple(scored)))
