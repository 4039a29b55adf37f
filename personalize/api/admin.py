"""``/v1/admin``: operations on the running server (server key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.datastructures import State
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import QueryParameter

from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.errors import InvalidInput, NotFound
from personalize.loyalty import reports
from personalize.loyalty.outbox import notice_page
from personalize.loyalty.types import NoticePage, Stats
from personalize.models.types import ModelsLoaded
from personalize.pages.banner_rules import BannerDocument, Format
from personalize.pages.types import BannersOut


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
            models_dir = state.runtime.settings.models_dir
            raise NotFound(f"no trained models in {models_dir}; run personalize train", code="no_models")
        return ModelsLoaded(
            version=models.version, collaborative=models.manifest.collaborative, counts=models.manifest.counts
        )

    @get("/stats", responses=errors(401, 503))
    async def stats(self, state: State) -> Stats:
        """Customers, orders, lifetime spend (net of refunds), customers per tier and per segment of the live
        segmentation run."""
        return await reports.stats(state.runtime)

    @get("/events", responses=errors(400, 401, 503))
    async def events(
        self,
        state: State,
        after: Annotated[str | None, QueryParameter(max_length=32, pattern=r"^\d{1,15}-\d{1,12}$")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> NoticePage:
        """The loyalty outbox, oldest first: every tier change, points earned, expiring and expired, reward
        redeemed, coupon issued, in the order they happened, each written in the same atomic step as the change.
        Pass the last ``id`` seen (``next_after``) as ``after`` to read on; kept for ``outbox.retention_days``."""
        return await notice_page(state.runtime, after, limit)

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
            raise InvalidInput("no banner file in the body (a file with no banners says so)")
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise InvalidInput("the banner file must be UTF-8 text") from None
        version = await state.runtime.banners.put(state.runtime.store, BannerDocument(fmt, text), f"banners.{fmt}")
        return BannersOut(version=version, format=fmt, content=text, banners=len(state.runtime.banners.compiled.ids))
