"""``POST /v1/page``: one call per page view, from the browser or the shop's front end."""

from __future__ import annotations

from litestar import post
from litestar.datastructures import State
from litestar.params import JSONBody

from personalize.clock import now_ms
from personalize.pages import (
    CustomerSummary,
    PageRequest,
    PageResponse,
    RecommendedItem,
    blocked_items,
    catalog_fallback,
    fill_list,
    new_session_id,
    placements_for,
    recommended,
)
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
    blocked = blocked_items(data)
    recommendations = {name: await _placement(runtime, name, data, blocked, now) for name in placements_for(data)}
    return PageResponse(
        session_id=session_id,
        customer=CustomerSummary(id=customer_id) if customer_id else None,
        banners=[],
        recommendations=recommendations,
        nudges=[],
    )


async def _record_view(runtime: Runtime, data: PageRequest, session_id: str, customer_id: str | None, now: int) -> None:
    events = [ProductView(item_id=data.page.item_id)] if data.page.type == "product" and data.page.item_id else []
    if not events and not customer_id:
        return
    scored, _ = score_events(events, runtime.catalog, runtime.settings, now)
    await runtime.store.tracking.apply(TrackingWrite(session_id, customer_id, now, tuple(scored)))


async def _placement(
    runtime: Runtime, name: str, data: PageRequest, blocked: set[str], now: int
) -> list[RecommendedItem]:
    if name != "home_trending":
        return []  # filled by the recommenders as they land
    chosen = fill_list(await runtime.trending.top("", now), "trending", runtime.catalog, blocked, data.limit)
    if len(chosen) < data.limit:
        fallback = catalog_fallback(runtime.catalog, "", blocked, data.limit - len(chosen))
        chosen += fill_list(fallback, "catalog", runtime.catalog, blocked, data.limit - len(chosen))
    currency = runtime.settings.currency
    return [recommended(item, score, reason, currency) for item, score, reason in chosen]
