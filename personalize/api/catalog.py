"""``/v1/catalog/items``: the shop's catalog, server-to-server."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, put
from litestar.datastructures import State
from litestar.params import JSONBody, PathParameter, QueryParameter

from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.catalog.types import CatalogUpsert, ItemOut, ItemPage, UpsertResult, to_item, to_out
from personalize.errors import NotFound


class CatalogController(Controller):
    path = "/v1/catalog/items"
    guards = [require_api_key]  # noqa: RUF012 - litestar reads the class attribute
    security = API_KEY_SECURITY
    tags = ["catalog"]  # noqa: RUF012

    @put("/", status_code=200, responses=errors(400, 401, 413, 503))
    async def upsert(self, data: JSONBody[CatalogUpsert], state: State) -> UpsertResult:
        """Insert or replace up to 10,000 items at once; the batch is applied whole or not at all."""
        runtime = state.runtime
        currency = runtime.settings.currency
        items = [to_item(item, currency, f"items[{index}].price") for index, item in enumerate(data.items)]
        version = await runtime.store.catalog.upsert_items(items)
        await runtime.refresh_catalog()
        return UpsertResult(upserted=len({item.item_id for item in items}), catalog_version=version)

    @get("/{item_id:str}", responses=errors(400, 401, 404, 503))
    async def get_item(self, item_id: Annotated[str, PathParameter(max_length=64)], state: State) -> ItemOut:
        """One catalog item."""
        item = await state.runtime.store.catalog.get_item(item_id)
        if item is None:
            raise NotFound(f"no catalog item {item_id!r}", "item_id")
        return to_out(item, state.runtime.settings.currency)

    @get("/", responses=errors(400, 401, 503))
    async def list_items(
        self,
        state: State,
        brand: Annotated[str | None, QueryParameter(max_length=100)] = None,
        category: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> ItemPage:
        """Items in id order, optionally of one brand and/or under one category path; page with ``cursor``."""
        items, next_cursor = await state.runtime.store.catalog.list_items(
            brand=brand, category=category, limit=limit, cursor=cursor
        )
        currency = state.runtime.settings.currency
        return ItemPage(items=[to_out(item, currency) for item in items], next_cursor=next_cursor)
