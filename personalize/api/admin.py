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
from personalize.loyalty.program_file import ProgramOut, program_out
from personalize.loyalty.types import NoticePage, Stats
from personalize.models.types import ModelsLoaded
from personalize.pages.types import BannersOut
from personalize.store.documents import FileDocument, Format


def file_body(what: str, description: str) -> RequestBody:
    toml = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, min_length=1, description=f"the {what} as TOML"))
    return RequestBody(
        content={
            "application/toml": toml,
            "text/plain": toml,
            "application/json": OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT)),
        },
        description=description,
        required=True,
    )


@dataclass
class BannerFileUpload(Operation):
    """``PUT /v1/admin/banners`` reads its body itself (the format follows ``Content-Type``), so litestar cannot
    derive the request body from a parameter: it is stated here."""

    def __post_init__(self) -> None:
        text = 'The banner rules, TOML or JSON (README, "Banners"); the whole file replaces the rules.'
        self.request_body = file_body("banner file", text)


@dataclass
class ProgramFileUpload(Operation):
    """``PUT /v1/admin/loyalty`` reads its body itself, like the banner file."""

    def __post_init__(self) -> None:
        text = 'The loyalty program, TOML or JSON (README, "The loyalty program file"); the whole file replaces it.'
        self.request_body = file_body("program file", text)


async def uploaded_file(request: Request[Any, Any, Any], what: str) -> tuple[Format, str]:
    """The format (by ``Content-Type``: JSON, else TOML) and the UTF-8 text of an uploaded file; an empty body is
    refused (a request that lost its body must not clear what is in service)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt: Format = "json" if kind.endswith("json") else "toml"
    body = await request.body()
    if not body:
        raise InvalidInput(f"no {what} in the body")
    try:
        return fmt, body.decode()
    except UnicodeDecodeError:
        raise InvalidInput(f"the {what} must be UTF-8 text") from None


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
        # an empty TOML file is valid and has no banners: an empty body is refused all the same
        fmt, text = await uploaded_file(request, "banner file (a file with no banners says so)")
        version = await state.runtime.banners.put(state.runtime.store, FileDocument(fmt, text), f"banners.{fmt}")
        return BannersOut(version=version, format=fmt, content=text, banners=len(state.runtime.banners.compiled.ids))

    @get("/loyalty", responses=errors(401, 503))
    async def get_program(self, state: State) -> ProgramOut:
        """The loyalty program in service: the uploaded file's version, format and text (version 0 and no file: the
        settings' ``[loyalty]``), and the program as the server reads it, every default filled in."""
        await state.runtime.program.refresh(state.runtime)
        return program_out(state.runtime)

    @put("/loyalty", status_code=200, operation_class=ProgramFileUpload, responses=errors(400, 401, 422, 503))
    async def put_program(self, request: Request[Any, Any, Any], state: State) -> ProgramOut:
        """Replace the loyalty program: TOML or JSON, the program itself or a file whose only table is
        ``[loyalty]``. Validated whole, as the settings are at start and against the catalog (an earning rule
        naming a tag or category no item has) — 422 naming the field — then stored as a new version that every
        process runs within ``catalog_refresh_seconds``; a rejected file changes nothing."""
        fmt, text = await uploaded_file(request, "program file")
        await state.runtime.program.put(state.runtime, FileDocument(fmt, text))
        return program_out(state.runtime)
