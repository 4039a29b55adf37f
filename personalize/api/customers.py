"""``/v1/customers``: a customer's record, loyalty standing and server-reported actions (server key)."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, post, put
from litestar.datastructures import State
from litestar.params import JSONBody, PathParameter

from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.clock import now_ms
from personalize.errors import NotFound
from personalize.loyalty.customer_types import ActionIn, ActionOut, CustomerExport, CustomerIn, CustomerOut, Erased
from personalize.loyalty.customers import erase_customer, export_customer, put_customer, record_action
from personalize.loyalty.standing import loyalty_state, standing_for
from personalize.loyalty.types import LoyaltyState

CustomerId = Annotated[str, PathParameter(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:@\-]+$")]


@put(
    "/v1/customers/{customer_id:str}",
    status_code=200,
    guards=[require_api_key],
    security=API_KEY_SECURITY,
    tags=["customers"],
    responses=errors(400, 401, 413, 503),
)
async def store_customer(customer_id: CustomerId, data: JSONBody[CustomerIn], state: State) -> CustomerOut:
    """Store the customer's record whole (``first_name`` for banners and messages, ``email``, ``birthday`` as
    ``MM-DD``, ``country``, ``locale``, ``email_consent`` with when it was given, ``joined_at``); a field left out
    is cleared. The first record of a customer gives the program's welcome bonus, once ever (``created``,
    ``welcome_points``). Idempotent: the same record again changes nothing."""
    return await put_customer(state.runtime, customer_id, data, now_ms())


@delete(
    "/v1/customers/{customer_id:str}",
    status_code=200,
    guards=[require_api_key],
    security=API_KEY_SECURITY,
    tags=["customers"],
    responses=errors(400, 401, 503),
)
async def delete_customer(customer_id: CustomerId, state: State) -> Erased:
    """Erase what is personal about a customer: the record, the long-term profile, the sessions' links to them and
    the unused codes assigned to them. The ledger (orders, points, tier) stays under the id for the shop's
    accounts; the interaction log keeps its pseudonymous events until it rolls over. Idempotent."""
    return await erase_customer(state.runtime, customer_id)


@get(
    "/v1/customers/{customer_id:str}/export",
    guards=[require_api_key],
    security=API_KEY_SECURITY,
    tags=["customers"],
    responses=errors(400, 401, 503),
)
async def customer_export(customer_id: CustomerId, state: State) -> CustomerExport:
    """Everything held about a customer as one JSON document: the record, the loyalty state, every order with
    its lines, every code assigned to them and their long-term interest profile."""
    return await export_customer(state.runtime, customer_id, now_ms())


@post(
    "/v1/customers/{customer_id:str}/actions",
    status_code=200,
    guards=[require_api_key],
    security=API_KEY_SECURITY,
    tags=["customers"],
    responses=errors(400, 401, 409, 413, 422, 503),
)
async def customer_action(customer_id: CustomerId, data: JSONBody[ActionIn], state: State) -> ActionOut:
    """Something the customer did that the shop's server saw (``recycling_dropoff``: old clothes brought to a
    shop): the action's points and, when the program says so, a single-use code, in one step with their notices.
    Idempotent on ``action_id``; 422 names the actions of the program when ``action`` is none of them."""
    return await record_action(state.runtime, customer_id, data, now_ms())


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
