"""``/v1/orders``: completed orders and refunds from the shop's order system (server key)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, post
from litestar.datastructures import State
from litestar.params import JSONBody, PathParameter

from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.clock import now_ms
from personalize.loyalty.orders import complete_order, refund_order
from personalize.loyalty.types import OrderIn, OrderResult, RefundIn, RefundResult


class OrdersController(Controller):
    path = "/v1/orders"
    guards = [require_api_key]  # noqa: RUF012 - litestar reads the class attribute
    security = API_KEY_SECURITY
    tags = ["loyalty"]  # noqa: RUF012

    @post("/", status_code=200, responses=errors(400, 401, 409, 413, 503))
    async def complete(self, data: JSONBody[OrderIn], state: State) -> OrderResult:
        """An order completed: qualifying and lifetime spend, history, points and the tier change at once.
        Idempotent on ``order_id``, also under concurrent deliveries to several processes: a replay returns
        the first response with ``duplicate: true``."""
        return await complete_order(state.runtime, data, now_ms())

    @post("/{order_id:str}/refunds", status_code=200, responses=errors(400, 401, 404, 409, 413, 422, 503))
    async def refund(
        self, order_id: Annotated[str, PathParameter(max_length=100)], data: JSONBody[RefundIn], state: State
    ) -> RefundResult:
        """Refund part of an order (``amount``) or the rest of it; reverses qualifying spend and points pro rata
        and, when the order that caused an upgrade is refunded in full, the upgrade. Idempotent on
        ``refund_id``. 422 names how much remains when the amount is larger."""
        return await refund_order(state.runtime, order_id, data, now_ms())
