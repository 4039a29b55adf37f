"""What the published schema says of the wire types: money as numbers, bounds litestar would drop, closed objects."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, post
from litestar.params import JSONBody

from personalize.loyalty.coupons import CampaignIn
from personalize.loyalty.orders import OrderIn
from personalize.openapi import ClosedStructs
from personalize.pages.types import PageRequest, PageResponse


@post("/orders")
async def order(data: JSONBody[OrderIn]) -> None:
    """An endpoint that takes an order."""


@post("/campaigns")
async def campaign(data: JSONBody[CampaignIn]) -> None:
    """An endpoint that takes a campaign."""


@post("/page")
async def page(data: JSONBody[PageRequest]) -> PageResponse:
    """An endpoint that takes a page request."""
    raise NotImplementedError


def components(*plugins: Any) -> dict[str, Any]:
    app = Litestar([order, campaign, page], plugins=list(plugins))
    return dict(app.openapi_schema.to_schema()["components"]["schemas"])


def test_money_is_a_bounded_number_and_times_are_milliseconds_or_iso() -> None:
    schemas = components()
    order_in, line = schemas["OrderIn"]["properties"], schemas["OrderLineIn"]["properties"]
    assert order_in["total"] == {"type": "number", "minimum": 0, "maximum": 1_000_000_000}
    assert line["price"]["type"] == "number"
    assert [arm["type"] for arm in order_in["completed_at"]["oneOf"]] == ["number", "string"]
    assert (order_in["completed_at"]["minimum"], order_in["completed_at"]["maximum"]) == (0, 10**14)
    assert schemas["CartLine"]["properties"]["price"]["type"] == ["number", "null"]


def test_bounds_of_zero_and_checked_patterns_are_stated() -> None:
    schemas = components()
    discount = schemas["CampaignIn"]["properties"]["discount_pct"]
    assert (discount["exclusiveMinimum"], discount["maximum"]) == (0, 100)
    assert schemas["PageInfo"]["properties"]["category"]["pattern"].startswith("^[a-z0-9]+")


def test_closed_structs_forbid_unknown_properties_and_only_those() -> None:
    assert "additionalProperties" not in components()["PageRequest"]
    schemas = components(ClosedStructs())
    assert schemas["PageRequest"]["additionalProperties"] is False
    assert schemas["PageInfo"]["additionalProperties"] is False
    assert schemas["OrderLineIn"]["additionalProperties"] is False
    assert "additionalProperties" not in schemas["PageResponse"]
