"""``/v1/admin``: operations on the running server (server key)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State

from personalize import money
from personalize.api.auth import require_api_key
from personalize.errors import ApiError


class ModelsLoaded(msgspec.Struct):
    """The artifact now serving, and what it was trained on."""

    version: str
    collaborative: str
    counts: dict[str, int]


class Stats(msgspec.Struct, kw_only=True):
    """Totals across all customers; money in the shop currency, exact to the cent."""

    customers: int
    orders: int
    lifetime_spend: float
    currency: str
    per_tier: dict[str, int]
    per_segment: dict[str, int]
    segments_as_of: datetime | None


class AdminController(Controller):
    path = "/v1/admin"
    guards = [require_api_key]  # noqa: RUF012 - litestar reads the class attribute
    tags = ["admin"]  # noqa: RUF012

    @post("/models/reload", status_code=200)
    async def reload_models(self, state: State) -> ModelsLoaded:
        """Load the newest trained artifact of ``models_dir`` and serve it from the next request on; requests
        in flight finish on the models they started with. 404 when no artifact exists."""
        models = await state.runtime.reload_models()
        if models is None:
            raise ApiError(
                404, "no_models", f"no trained models in {state.runtime.settings.models_dir}; run personalize train"
            )
        return ModelsLoaded(
            version=models.version, collaborative=models.manifest.collaborative, counts=models.manifest.counts
        )

    @get("/stats")
    async def stats(self, state: State) -> Stats:
        """Customers, orders, lifetime spend (net of refunds), customers per tier and per segment of the live
        segmentation run."""
        runtime = state.runtime
        totals = await runtime.store.ledger.totals()
        run = await runtime.store.segments.current()
        currency = runtime.settings.loyalty.currency
        return Stats(
            customers=totals.get("customers", 0),
            orders=totals.get("orders", 0),
            lifetime_spend=money.to_major(totals.get("lifetime_minor", 0), currency),
            currency=currency,
            per_tier={tier.name: totals.get(f"tier:{tier.name}", 0) for tier in runtime.settings.loyalty.tiers},
            per_segment=dict(run.counts) if run else {},
            segments_as_of=datetime.fromtimestamp(run.as_of_ms / 1000, tz=UTC) if run else None,
        )
