"""``/v1/segments``: the live RFM segmentation, its counts and its members (server key)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import PathParameter, QueryParameter

from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.errors import ApiError


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


class SegmentsController(Controller):
    path = "/v1/segments"
    guards = [require_api_key]  # noqa: RUF012 - litestar reads the class attribute
    security = API_KEY_SECURITY
    tags = ["segments"]  # noqa: RUF012

    @get("/", responses=errors(401, 503))
    async def counts(self, state: State) -> SegmentCounts:
        """Customers per named segment (every name of the map, zero included) as of the last run."""
        run = await state.runtime.store.segments.current()
        names = dict.fromkeys(rule.name for rule in state.runtime.settings.segments.rules)
        counts = {name: (run.counts.get(name, 0) if run else 0) for name in names}
        counts.update({name: n for name, n in (run.counts.items() if run else ()) if name not in counts})
        as_of = datetime.fromtimestamp(run.as_of_ms / 1000, tz=UTC) if run else None
        return SegmentCounts(as_of=as_of, counts=counts)

    @get("/{name:str}/customers", responses=errors(400, 401, 404, 503))
    async def members(
        self,
        name: Annotated[str, PathParameter(max_length=64)],
        state: State,
        cursor: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000,
    ) -> MemberPage:
        """The segment's customers in id order, paginated (an export for campaigns)."""
        known = {rule.name for rule in state.runtime.settings.segments.rules} | {"other"}
        if name not in known:
            raise ApiError(404, "not_found", f"no segment {name!r}; known: {sorted(known)}", "name")
        records, next_cursor = await state.runtime.store.segments.members(name, cursor, limit)
        customers = [
            Member(
                customer_id=r.customer_id,
                rfm=r.rfm,
                winback_stage=r.winback_stage,
                price_sensitivity=r.price_sensitivity,
            )
            for r in records
        ]
        return MemberPage(segment=name, customers=customers, next_cursor=next_cursor)
