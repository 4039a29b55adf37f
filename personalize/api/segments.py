"""``/v1/segments``: the live RFM segmentation, its counts and its members (server key)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import PathParameter, QueryParameter

from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.loyalty.reports import segment_counts, segment_members
from personalize.loyalty.types import MemberPage, SegmentCounts


class SegmentsController(Controller):
    path = "/v1/segments"
    guards = [require_api_key]  # noqa: RUF012 - litestar reads the class attribute
    security = API_KEY_SECURITY
    tags = ["segments"]  # noqa: RUF012

    @get("/", responses=errors(401, 503))
    async def counts(self, state: State) -> SegmentCounts:
        """Customers per named segment (every name of the map, zero included) as of the last run."""
        return await segment_counts(state.runtime)

    @get("/{name:str}/customers", responses=errors(400, 401, 404, 503))
    async def members(
        self,
        name: Annotated[str, PathParameter(max_length=64)],
        state: State,
        cursor: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000,
    ) -> MemberPage:
        """The segment's customers in id order, paginated (an export for campaigns)."""
        return await segment_members(state.runtime, name, cursor, limit)
