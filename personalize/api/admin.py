"""``/v1/admin``: operations on the running server (server key)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.datastructures import State
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

from banners import BannerError
from personalize import money
from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.errors import ApiError
from personalize.pages.banner_rules import BannerDocument, Format


class ModelsLoaded(msgspec.Struct):
    """The artifact now serving, and what it was trained on."""

    version: str
    collaborative: str
    counts: dict[str, int]


class BannersOut(msgspec.Struct, kw_only=True):
    """The banner rules in service."""

    version: int
    format: str | None
    content: str | None
    banners: int


class Stats(msgspec.Struct, kw_only=True):
    """Totals across all customers; money in the shop currency, exact to the cent."""

    customers: int
    orders: int
    lifetime_spend: float
    currency: str
    per_tier: dict[str, int]
    per_segment: dict[str, int]
    segments_as_of: datetime | None


@dataclass
class BannerFileUpload(Operation):
    """``PUT /v1/admin/banners`` reads its body itself (the format follows ``Content-Type``), so litestar cannot
    derive the request body from a parameter: it is stated here."""

    def __post_init__(self) -> None:
        toml = OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.STRING, min_length=1, description="the banner file as TOML")
        )
        self.request_body = RequestBody(
            content={
                "application/toml": toml,
                "text/plain": toml,
                "application/json": OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT)),
            },
            description='The banner rules, TOML or JSON (README, "Banners"); the whole file replaces the rules.',
            required=True,
        )


class AdminController(Controller):
    path = "/v1/admin"
    guards = [require_api_key]  # noqa: RUF012 - litestar reads the class attribute
    security = API_KEY_SECURITY
    tags = ["admin"]  # noqa: RUF012

    @post("/models/reload", status_code=200, responses=errors(401, 404))
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

    @get("/stats", responses=errors(401, 503))
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

    @get("/banners", responses=errors(401, 503))
    async def get_banners(self, state: State) -> BannersOut:
        """The banner file in service: its version, format and text exactly as uploaded."""
        rules = state.runtime.banners
        await rules.refresh(state.runtime.store)
        document = rules.document
        return BannersOut(
            version=rules.version,
            format=document.format if document else None,
            content=document.content if document else None,
            banners=len(rules.compiled.ids),
        )

    @put(
        "/banners",
        status_code=200,
        operation_class=BannerFileUpload,
        responses=errors(400, 401, 413, 422, 503),
    )
    async def put_banners(self, request: Request[Any, Any, Any], state: State) -> BannersOut:
        """Replace the banner rules: TOML (``content-type: application/toml`` or ``text/plain``) or JSON
        (``application/json``). The file is validated whole — unknown fields, bad or impossible dates, unknown
        tiers or segments, unknown template tokens are 422 naming the file, banner and field — and swapped in
        atomically as a new version; a rejected file or an empty body (400) leaves the serving rules untouched."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        fmt: Format = "json" if kind.endswith("json") else "toml"
        body = await request.body()
        if not body:
            # an empty TOML file is valid and has no banners: a request that lost its body must not clear them
            raise ApiError(400, "invalid_request", "no banner file in the body (a file with no banners says so)")
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise ApiError(400, "invalid_request", "the banner file must be UTF-8 text") from None
        try:
            version = await state.runtime.banners.put(state.runtime.store, BannerDocument(fmt, text), f"banners.{fmt}")
        except BannerError as exc:
            raise ApiError(422, "invalid_banners", str(exc), getattr(exc, "field", None)) from None
        return BannersOut(version=version, format=fmt, content=text, banners=len(state.runtime.banners.compiled.ids))
