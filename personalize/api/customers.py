"""``/v1/customers``: a customer's loyalty standing (server key)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.datastructures import State
from litestar.params import PathParameter

from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.clock import now_ms
from personalize.errors import NotFound
from personalize.loyalty.standing import loyalty_state, standing_for
from personalize.loyalty.types import LoyaltyState


@get(
    "/v1/customers/{customer_id:str}/loyalty",
    guards=[require_api_key],
    security=API_KEY_SECURITY,
    tags=["loyalty"],
    responses=errors(400, 401, 404, 503),
)
async def customer_loyalty(customer_id: Annotated[str, PathParameter(max_length=100)], state: State) -> LoyaltyState:
    """Tier, qualifying and lifetime spend, spendable and pending points, engagement score, the next tier and
    the amount still missing, the next points to expire, the RFM segment. 404 for a customer with no orders
    or engagement yet."""
    runtime = state.runtime
    ledger = await runtime.store.ledger.ledger(customer_id)
    if ledger is None:
        raise NotFound(f"no loyalty record for customer {customer_id!r}", "customer_id")
    standing = standing_for(runtime.settings, ledger, now_ms(), await runtime.segment_of(customer_id))
    return loyalty_state(standing, runtime.settings.currency)
