"""``/v1/rewards`` (browser-safe) and redemptions (server key): what points buy, spending them, cancelling."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.datastructures import State
from litestar.params import JSONBody, PathParameter, QueryParameter

from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.clock import now_ms
from personalize.errors import Unauthorized
from personalize.limits import limit_by_address
from personalize.loyalty.rewards import cancel, redeem, reward_list
from personalize.loyalty.types import RedemptionIn, RedemptionOut, RewardList

Token = Annotated[str | None, QueryParameter(name="customer_token", max_length=512)]
PathId = Annotated[str, PathParameter(max_length=100)]


@get("/v1/rewards", tags=["rewards"], guards=[limit_by_address], responses=errors(400, 401, 429, 503))
async def rewards(state: State, token: Token = None) -> RewardList:
    """The rewards open today. With a signed ``customer_token`` (the one the page API takes): only those the
    customer's tier may redeem, whether each is affordable and how many points each still takes, and the
    spendable balance. Safe to call from a browser; a token that does not verify is 401."""
    runtime = state.runtime
    customer_id = runtime.customer_from(token) if token else None
    if token and customer_id is None:
        raise Unauthorized("customer_token does not verify (wrong secret, malformed or expired)", "customer_token")
    return await reward_list(runtime, customer_id, now_ms())


@post(
    "/v1/customers/{customer_id:str}/redemptions",
    status_code=201,
    guards=[require_api_key],
    security=API_KEY_SECURITY,
    tags=["rewards"],
    responses=errors(400, 401, 409, 413, 422, 503),
)
async def create_redemption(customer_id: PathId, data: JSONBody[RedemptionIn], state: State) -> RedemptionOut:
    """Buy a reward with points: spends from the oldest spendable lots (never pending points), takes a unit of a
    limited reward's stock and issues its single-use code, in one atomic step. Idempotent on ``redemption_id``
    (a replay answers the first redemption with ``duplicate: true``). 409 ``not_enough_points`` names the
    balance and the cost; 409 ``out_of_stock``, ``tier`` or ``not_available``; 422 for a reward the program
    does not have."""
    return await redeem(state.runtime, customer_id, data, now_ms())


@post(
    "/v1/redemptions/{redemption_id:str}/cancel",
    status_code=200,
    guards=[require_api_key],
    security=API_KEY_SECURITY,
    tags=["rewards"],
    responses=errors(400, 401, 404, 409, 503),
)
async def cancel_redemption(redemption_id: PathId, state: State) -> RedemptionOut:
    """Cancel a redemption whose code is unused: the points go back to the lots they came from, with those lots'
    own expiry; the unit of stock comes back; the code is voided. Cancelling again answers the same; 409 ``used``
    once the code has paid for an order."""
    return await cancel(state.runtime, redemption_id, now_ms())
