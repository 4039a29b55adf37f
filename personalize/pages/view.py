"""The page view: one call records what the page shows and chooses everything on it.

In order: the cart is valued (an amount the currency cannot hold is refused before anything is written); the running
experiments' arms are chosen (hashing, nothing read: ``personalize.experiments.assignment``); the view's tracking
write, its exposures and the page's reads go to the store in one call (one round trip on Redis); the visitor's scores
are decayed and merged; a signed customer's standing is computed once; the cart nudge picks its gap-fillers
first, so the placements leave them out; then banners (a unit's first exposure to a banner file's test is written
after the match, the one case of a second store call) and placements. When the store cannot be reached the page is
still answered, with non-personal content (trending held in the process) and no customer.
"""

from __future__ import annotations

import logging
import secrets

import msgspec

from loyalty_nudges.experiment_sums import Exposure
from loyalty_nudges.ledger import Ledger
from personalize import money
from personalize.catalog.index import CatalogIndex
from personalize.experiments.assignment import Treatment
from personalize.loyalty.standing import Standing, expiry_out, standing_for
from personalize.pages.banners import banner_test_exposures, banners_for
from personalize.pages.compose import compose
from personalize.pages.context import PageContext
from personalize.pages.nudges import cart_minor, cart_nudges
from personalize.pages.placements import placements_for
from personalize.pages.types import CustomerSummary, PageRequest, PageResponse, PageWarning
from personalize.runtime import Runtime
from personalize.store.protocols import PageReads, RawProfile, StoreFull, StoreUnavailable
from personalize.tracking.landing import landing_source
from personalize.tracking.profiles import merged_scores
from personalize.tracking.scoring import TrackingWrite, score_events
from personalize.tracking.types import ProductView

log = logging.getLogger("personalize.pages")


class Visit(msgspec.Struct, frozen=True):
    """What the HTTP request adds to the body: the host it was sent to, the CDN's country header."""

    host: str | None
    country_header: str | None


def new_session_id() -> str:
    """A fresh, unguessable session id."""
    return "s-" + secrets.token_urlsafe(16)


async def view_page(runtime: Runtime, request: PageRequest, visit: Visit, now: int) -> PageResponse:
    """Record the page view and answer what the page shows (see the module docstring)."""
    settings = runtime.settings
    cart = cart_minor(request.page, runtime.catalog, settings.currency)
    session_id = request.session_id or new_session_id()
    customer_id = runtime.customer_from(request.customer_token) if request.consent else None
    source = _source(runtime, request, visit)
    names = placements_for(request)
    treated = _treatment(runtime, request, names, customer_id, session_id, now)
    reads = await _read_and_record(runtime, request, session_id, customer_id, now, source, treated)
    if reads is None:
        reads, customer_id = PageReads(RawProfile(None, None, None, landing_source=source)), None
    standing = _standing(runtime, customer_id, reads, now) if customer_id else None
    if treated.personal:
        ctx = page_context(runtime, request, now, reads, customer_id, standing, cart, session_id)
    else:  # held out of personalization: what an anonymous first visit would see
        anonymous = PageReads(RawProfile(None, None, None, landing_source=source))
        ctx = page_context(runtime, request, now, anonymous, cart=cart, session_id=session_id)
    ctx.strategies = treated.strategies
    nudges = cart_nudges(ctx, settings.loyalty, settings.currency_exponent) if request.page.type == "cart" else []
    exposed: list[tuple[str, str]] = []
    shown = banners_for(ctx, runtime.banners.compiled, visit.country_header, lambda b, a: exposed.append((b, a)))
    for banner_id, arm in exposed:
        runtime.metrics.banner_exposures.labels(banner_id, arm).inc()
    if exposed and request.consent:
        await _record_banner_tests(runtime, banner_test_exposures(ctx, exposed, runtime.experiments.banner_tests,
                                                           treated.shows_banner), now)  # fmt: skip
    warnings = page_warnings(request, runtime.catalog)
    for warning in warnings:
        runtime.metrics.page_warnings.labels(warning.code).inc()
    return PageResponse(
        session_id=session_id,
        customer=_summary(standing, settings.currency) if standing else None,
        banners=[banner for banner in shown if treated.shows_banner(banner.slot)],
        recommendations=await compose(ctx, names, request.limit, runtime.placements),
        nudges=nudges if treated.nudges else [],
        warnings=warnings,
    )


def _treatment(
    runtime: Runtime, request: PageRequest, names: tuple[str, ...], customer_id: str | None, session_id: str, now: int
) -> Treatment:
    """What the running experiments do to this page (nothing before consent: no unit is recorded then)."""
    if not request.consent:
        return Treatment()
    return runtime.experiments.treatment(
        page_type=request.page.type, placements=names, customer_id=customer_id, session_id=session_id, now_ms=now
    )


async def _record_banner_tests(runtime: Runtime, exposures: list[Exposure], now: int) -> None:
    """Record the first exposures of the banner file's tests. A banner's match is known only after the page's read,
    so a unit's first one costs this process a second store call; the process remembers it, and its later pages
    write nothing. An unreachable store leaves them for a later page."""
    fresh = runtime.experiments.unseen(exposures)
    if not fresh or runtime.store_down():
        return
    try:
        await runtime.store.experiments.expose(fresh, now)
    except (StoreFull, StoreUnavailable) as exc:
        log.warning("banner test exposures not recorded: %s", exc)
        return
    runtime.experiments.remember(fresh)


def page_warnings(request: PageRequest, catalog: CatalogIndex) -> list[PageWarning]:
    """What the page names that the catalog lacks (its rows then come from the shop's trending and newest)."""
    page, found = request.page, []
    if page.item_id and catalog.get(page.item_id) is None:
        message = f"page.item_id {page.item_id!r} is not in the catalog: similar items are the shop's trending"
        found.append(PageWarning("unknown_item", "page.item_id", message))
    if page.type == "category" and page.category and page.category not in catalog.by_category:
        message = f"page.category {page.category!r} is not a category of the catalog: its row is the shop's trending"
        found.append(PageWarning("unknown_category", "page.category", message))
    for index, line in enumerate(page.cart):
        if catalog.get(line.item_id) is None and line.price is None:
            message = f"page.cart[{index}].item_id {line.item_id!r} is not in the catalog and has no price: it counts 0"
            found.append(PageWarning("unknown_item", f"page.cart[{index}].item_id", message))
    return found


def page_context(
    runtime: Runtime,
    request: PageRequest,
    now: int,
    reads: PageReads,
    customer_id: str | None = None,
    standing: Standing | None = None,
    cart: int = 0,
    session_id: str = "",
) -> PageContext:
    """The page's context from what the store returned (the visitor's scores decayed to ``now``)."""
    settings, profile = runtime.settings, reads.profile
    return PageContext(
        request=request,
        now=now,
        catalog=runtime.catalog,
        models=runtime.models,
        trending=runtime.trending,
        settings=settings.recommendations,
        currency=settings.currency,
        customer_id=customer_id or profile.customer_id,
        scores=merged_scores(profile, runtime.decay, settings.tracking.customer_profile_weight, now),
        recent=profile.recent,
        landing_source=profile.landing_source,
        standing=standing,
        coupons=reads.coupons,
        cart_minor=cart,
        session_id=session_id,
    )


async def _read_and_record(
    runtime: Runtime,
    request: PageRequest,
    session_id: str,
    customer_id: str | None,
    now: int,
    source: str | None,
    treated: Treatment,
) -> PageReads | None:
    """The view's write (if the page records anything), its experiment exposures and the page's reads, in one store
    call (one round trip on Redis); ``None`` when the store is down."""
    if not request.consent:
        return PageReads(RawProfile(None, None, None, landing_source=source))
    if runtime.store_down():
        runtime.metrics.degraded_pages.inc()
        return None
    write = _write(runtime, request, session_id, customer_id, now, source)
    exposures = treated.exposures
    try:
        try:
            return await runtime.store.page_view(session_id, write, customer_id, exposures, now)
        except StoreFull:
            # the store answers but takes no writes (out of memory): the page goes unrecorded, not unread
            if write is None and not exposures:
                raise
            runtime.metrics.unrecorded_pages.inc()
            return await runtime.store.page_view(session_id, None, customer_id)
    except StoreUnavailable as exc:
        runtime.store_failed(exc)
        runtime.metrics.degraded_pages.inc()
        return None


def _source(runtime: Runtime, request: PageRequest, visit: Visit) -> str | None:
    context = request.context
    own = {*runtime.settings.site_hosts, visit.host or ""}
    return landing_source(context.utm_source, context.referrer, context.landing_url, own)


def _write(
    runtime: Runtime, request: PageRequest, session_id: str, customer_id: str | None, now: int, source: str | None
) -> TrackingWrite | None:
    """What the page view records: a product view, the customer link, the landing source (or nothing)."""
    page = request.page
    events = [ProductView(item_id=page.item_id)] if page.type == "product" and page.item_id else []
    if not events and not customer_id and not source:
        return None
    scored, _ = score_events(events, runtime.catalog, runtime.settings, now)
    return TrackingWrite(session_id, customer_id, now, tuple(scored), source)


def _standing(runtime: Runtime, customer_id: str, reads: PageReads, now: int) -> Standing:
    segment = reads.segment.segment if reads.segment else None
    return standing_for(runtime.settings, reads.ledger or Ledger(customer_id=customer_id), now, segment)


def _summary(standing: Standing, currency: str) -> CustomerSummary:
    return CustomerSummary(
        id=standing.customer_id,
        tier=standing.ledger.tier,
        discount_pct=standing.discount_pct,
        points=standing.points,
        qualifying_spend=money.to_major(standing.qualifying_minor, currency),
        segment=standing.segment,
        next_expiry=expiry_out(standing),
    )
