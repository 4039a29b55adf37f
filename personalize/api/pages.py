"""``POST /v1/page``: one call per page view, from the browser or the shop's front end."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.datastructures import State
from litestar.params import JSONBody

from personalize.api.responses import errors
from personalize.clock import now_ms
from personalize.limits import limit_by_address
from personalize.pages.types import PageRequest, PageResponse
from personalize.pages.view import Visit, view_page


@post("/v1/page", status_code=200, tags=["pages"], guards=[limit_by_address], responses=errors(400, 413, 429))
async def page_view(data: JSONBody[PageRequest], state: State, request: Request[Any, Any, Any]) -> PageResponse:
    """Record this page view (a product view on product pages; the session's landing source on its first
    page) and return what the page shows: the session id (assigned when absent), the signed customer's
    standing, banners, recommendations per placement and nudges. Placements default by page type; every
    item's ``reason`` names what served it. When the store cannot be reached the page is still answered,
    with non-personal content (trending held in the process) and no customer standing."""
    runtime = state.runtime
    runtime.limits.check_session(request, data.session_id)
    visit = Visit(request.url.hostname, request.headers.get(runtime.settings.country_header))
    return await view_page(runtime, data, visit, now_ms())
