"""``POST /v1/events``: batches of tracking events from browsers."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.datastructures import State
from litestar.params import JSONBody

from personalize.api.responses import errors
from personalize.clock import now_ms
from personalize.errors import InvalidInput
from personalize.experiments.assignment import unit_of
from personalize.limits import limit_by_address
from personalize.loyalty.engagement import record_engagement
from personalize.runtime import Runtime
from personalize.tracking.scoring import TrackingWrite, event_type, score_events
from personalize.tracking.types import Click, EventBatch, TrackResult


@post("/v1/events", status_code=202, tags=["tracking"], guards=[limit_by_address], responses=errors(400, 413, 429, 503))
async def track_events(data: JSONBody[EventBatch], state: State, request: Request[Any, Any, Any]) -> TrackResult:
    """Record a batch of events for a session (202). Events repeating an ``event_id`` already sent for this
    session are counted once; events naming items the catalog lacks are kept out of profiles and trending.
    A valid ``customer_token`` links the session to the customer, whose long-term profile learns too and whose
    engagement score moves (capped per day; never points, spend or tier)."""
    runtime = state.runtime
    runtime.limits.check_session(request, data.session_id)
    limit = runtime.settings.tracking.max_events_per_call
    if len(data.events) > limit:
        raise InvalidInput(
            f"events: {len(data.events)} events, at most {limit} per call", "events", code="too_many_events"
        )
    now = now_ms()
    scored, unknown = score_events(data.events, runtime.catalog, runtime.settings, now)
    customer_id = runtime.customer_from(data.customer_token)
    applied = await runtime.store.tracking.apply(TrackingWrite(data.session_id, customer_id, now, tuple(scored)))
    if applied.duplicates == 0:  # a batch with any re-delivered event moves nothing: never count an event twice
        if customer_id:
            await record_engagement(runtime, customer_id, [event_type(event) for event in data.events], now)
        await _count_clicks(runtime, data, customer_id, now)
    runtime.metrics.events.labels("accepted").inc(applied.accepted)
    runtime.metrics.events.labels("duplicate").inc(applied.duplicates)
    runtime.metrics.dropped.labels("session").inc(applied.sessions_dropped)
    runtime.metrics.dropped.labels("event_id").inc(applied.event_ids_forgotten)
    return TrackResult(accepted=applied.accepted, duplicates=applied.duplicates, unknown_items=unknown)


async def _count_clicks(runtime: Runtime, batch: EventBatch, customer_id: str | None, now: int) -> None:
    """Clicks on a rendered placement count for the arm of each running experiment the clicking unit was exposed
    to (the unit a page view of this visitor would use)."""
    placements = [event.placement for event in batch.events if isinstance(event, Click) and event.placement]
    if not placements:
        return
    clicks: list[tuple[str, str, str]] = []
    for experiment in runtime.experiments.running(now):
        unit = unit_of(experiment, customer_id, batch.session_id)
        clicks.extend((experiment.id, unit, placement) for placement in placements if unit)
    if clicks:
        await runtime.store.experiments.count_clicks(clicks)
