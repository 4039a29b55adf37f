"""``/v1/admin/campaigns``: the campaign definitions (server key)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, put
from litestar.datastructures import State
from litestar.openapi.spec import Operation

from personalize.api.admin import file_body, uploaded_file
from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.campaigns.definitions import Campaign
from personalize.clock import now_ms, utc
from personalize.runtime import Runtime
from personalize.store.documents import FileDocument


class CampaignsOut(msgspec.Struct, kw_only=True):
    """``GET`` and ``PUT /v1/admin/campaigns``: the definitions in service."""

    version: int
    """The uploaded file's version; 0: none uploaded."""
    format: str | None
    content: str | None
    campaigns: list[Campaign]
    """Every definition as the server reads it, defaults filled in."""
    as_of: datetime


@dataclass
class CampaignsFileUpload(Operation):
    """``PUT /v1/admin/campaigns`` reads its body itself, like the banner file."""

    def __post_init__(self) -> None:
        text = 'The campaign definitions, TOML or JSON (README, "Campaigns"); the whole file replaces them.'
        self.request_body = file_body("campaigns file", text)


def campaigns_out(runtime: Runtime) -> CampaignsOut:
    live = runtime.campaigns
    document = live.document
    return CampaignsOut(
        version=live.version,
        format=document.format if document else None,
        content=document.content if document else None,
        campaigns=list(live.defined.campaigns),
        as_of=utc(now_ms()),
    )


class CampaignsController(Controller):
    path = "/v1/admin/campaigns"
    guards = [require_api_key]  # noqa: RUF012 - litestar reads the class attribute
    security = API_KEY_SECURITY
    tags = ["campaigns"]  # noqa: RUF012

    @get("/", responses=errors(401, 503))
    async def get_campaigns(self, state: State) -> CampaignsOut:
        """The campaign definitions in service: the uploaded file's version, format and text, and every definition
        with its defaults."""
        await state.runtime.campaigns.refresh(state.runtime.store)
        return campaigns_out(state.runtime)

    @put("/", status_code=200, operation_class=CampaignsFileUpload, responses=errors(400, 401, 422, 503))
    async def put_campaigns(self, request: Request[Any, Any, Any], state: State) -> CampaignsOut:
        """Replace the campaign definitions: TOML or JSON. Validated whole — an unknown segment or tier, an unknown
        subject token, offer bands that overlap, a trigger without its field — with 422 ``invalid_campaigns`` naming
        the field; every process serves a new file within ``catalog_refresh_seconds``; a rejected file changes
        nothing."""
        fmt, text = await uploaded_file(request, "campaigns file")
        await state.runtime.campaigns.put(state.runtime.store, FileDocument(fmt, text))
        return campaigns_out(state.runtime)
