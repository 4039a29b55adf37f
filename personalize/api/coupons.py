"""``/v1/coupons``: campaigns of unique single-use codes and their redemption (server key)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import JSONBody, PathParameter

from loyalty_nudges.coupons import normalize
from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.clock import now_ms
from personalize.errors import NotFound
from personalize.loyalty.coupons import coupon_out, create_campaign, find, redeem
from personalize.loyalty.types import CampaignIn, CampaignOut, CouponOut, RedeemIn

Code = Annotated[str, PathParameter(min_length=1, max_length=64)]


class CouponsController(Controller):
    path = "/v1/coupons"
    guards = [require_api_key]  # noqa: RUF012 - litestar reads the class attribute
    security = API_KEY_SECURITY
    tags = ["coupons"]  # noqa: RUF012

    @post("/campaigns", status_code=201, responses=errors(400, 401, 409, 413, 503))
    async def campaign(self, data: JSONBody[CampaignIn], state: State) -> CampaignOut:
        """Create a campaign and issue one code per customer of its audience (tier, engagement-score band,
        segment, explicit ids; conditions combine with AND) plus ``unassigned`` codes. Codes are CSPRNG draws over
        an unambiguous 30-symbol alphabet, unique across all campaigns forever; ``entropy_bits`` says how hard
        one is to guess. 409 when the campaign id exists."""
        return await create_campaign(state.runtime, data, now_ms())

    @get("/{code:str}", responses=errors(400, 401, 404, 503))
    async def coupon(self, code: Code, state: State) -> CouponOut:
        """One code (any case, hyphens and spaces ignored)."""
        found = await find(state.runtime, code)
        if found is None:
            raise NotFound(f"{normalize(code)}: no such coupon code", "code", code="coupon_unknown")
        return coupon_out(found, state.runtime.settings.currency)

    @post("/{code:str}/redeem", status_code=200, responses=errors(400, 401, 403, 404, 409, 413, 503))
    async def redeem(self, code: Code, data: JSONBody[RedeemIn], state: State) -> CouponOut:
        """Use a code for an order in one atomic step. Idempotent on ``order_id``; a code used by another order
        (409 ``coupon_used``), expired (409), not yet valid (409) or assigned to someone else (403) is refused
        with the reason."""
        return await redeem(state.runtime, code, data, now_ms())
