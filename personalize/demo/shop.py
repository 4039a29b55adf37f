"""The demo shop's back end: what its cart costs, placing an order as a shop's order system would (the code
redeemed through the coupon machinery, then the order completed server-to-server), and the confirmation."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

import msgspec

from loyalty_nudges.coupons import Coupon, normalize
from loyalty_nudges.ledger import Ledger, StoredOrder
from loyalty_nudges.program import Tier
from personalize import money
from personalize.demo.checkout import CartPrice, price_cart
from personalize.demo.storefront import ItemView, item_view
from personalize.errors import Conflict
from personalize.loyalty import coupons
from personalize.loyalty.orders import complete_order
from personalize.loyalty.types import OrderIn, OrderLineIn, RedeemIn
from personalize.runtime import Runtime


class Line(msgspec.Struct, frozen=True, kw_only=True):
    item: ItemView
    quantity: int
    unit: str
    total: str


class Amount(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    amount: str
    description: str = ""


class PriceView(msgspec.Struct, frozen=True, kw_only=True):
    subtotal: str
    member: Amount | None
    code: Amount | None
    total: str


class CartView(msgspec.Struct, frozen=True, kw_only=True):
    """The cart page: its lines, what it costs, the code's state."""

    lines: list[Line]
    price: CartPrice
    shown: PriceView
    coupon: Coupon | None
    code_input: str
    code_error: str | None


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    """The order confirmation."""

    order_id: str
    lines: list[Line]
    subtotal: str
    discount: str | None
    coupon_code: str | None
    total: str
    points: int
    pending: bool
    tier_changed: bool
    tier_title: str
    tier_discount: str


async def member_tier(runtime: Runtime, customer_id: str | None) -> tuple[Ledger | None, Tier | None]:
    """The customer's ledger and tier (none for a visitor who is not signed in)."""
    if customer_id is None:
        return None, None
    ledger = await runtime.store.ledger.ledger(customer_id)
    return ledger, runtime.settings.loyalty.tier_named(ledger.tier if ledger else None)


def _formatter(currency: str) -> Callable[[int], str]:
    def fmt(minor: int) -> str:
        return money.format_amount(minor, currency)

    return fmt


async def cart(
    runtime: Runtime, customer_id: str | None, lines: Sequence[tuple[str, int]], code: str, now_ms: int
) -> CartView:
    """The cart priced for this customer: the member discount of their tier, and the code when it applies."""
    currency = runtime.settings.currency
    fmt = _formatter(currency)
    items = [(runtime.catalog.items[item_id], qty) for item_id, qty in lines if item_id in runtime.catalog.items]
    subtotal = sum(item.price * qty for item, qty in items)
    _, tier = await member_tier(runtime, customer_id)
    coupon, error = None, None
    if code and customer_id:
        coupon, error = await coupons.usable(runtime, code, customer_id, now_ms)
    price = price_cart(subtotal, tier, coupon, fmt)
    shown = PriceView(
        subtotal=fmt(price.subtotal_minor),
        member=Amount(label=price.member.label, amount=fmt(price.member.amount_minor)) if price.member else None,
        code=(
            Amount(label=price.code.label, amount=fmt(price.code.amount_minor), description=price.code.description)
            if price.code
            else None
        ),
        total=fmt(price.total_minor),
    )
    return CartView(
        lines=[_line(runtime, item.item_id, qty, item.price) for item, qty in items],
        price=price,
        shown=shown,
        coupon=coupon,
        code_input=normalize(code) if code else "",
        code_error=f"{normalize(code)}: {error}" if error else None,
    )


async def place_order(
    runtime: Runtime, customer_id: str, lines: Sequence[tuple[str, int]], code: str, now_ms: int
) -> str:
    """Redeem the code for a new order id, then complete the order at the price the cart showed; its id.
    A code that no longer applies is a conflict (the cart shows why); nothing is ordered then."""
    view = await cart(runtime, customer_id, lines, code, now_ms)
    if view.code_error:
        raise Conflict(view.code_error, "code")
    currency = runtime.settings.currency
    order_id = f"demo-{secrets.token_hex(6)}"
    if view.coupon is not None:
        await coupons.redeem(runtime, view.coupon.code, RedeemIn(order_id=order_id, customer_id=customer_id), now_ms)
    items = [
        OrderLineIn(
            item_id=line_id,
            quantity=qty,
            price=money.to_decimal(runtime.catalog.items[line_id].price, currency),
        )
        for line_id, qty in lines
        if line_id in runtime.catalog.items
    ]
    order = OrderIn(
        order_id=order_id,
        customer_id=customer_id,
        items=items,
        total=money.to_decimal(view.price.total_minor, currency),
        currency=currency,
        completed_at=now_ms,
        coupon_code=view.coupon.code if view.coupon else None,
    )
    await complete_order(runtime, order, now_ms)
    return order_id


def order_view(runtime: Runtime, stored: StoredOrder) -> OrderView:
    """What the confirmation shows of a stored order."""
    currency = runtime.settings.currency
    program = runtime.settings.loyalty
    subtotal = sum(line.amount_minor for line in stored.lines)
    off = subtotal - stored.total_minor
    tier = program.tier_named(stored.tier_after)
    return OrderView(
        order_id=stored.order_id,
        lines=[_line(runtime, line.item_id, line.quantity, line.unit_minor) for line in stored.lines],
        subtotal=money.format_amount(subtotal, currency),
        discount=money.format_amount(off, currency) if off > 0 else None,
        coupon_code=stored.coupon_code,
        total=money.format_amount(stored.total_minor, currency),
        points=stored.points,
        pending=program.points.return_window_days > 0,
        tier_changed=stored.tier_after != stored.tier_before and tier is not None,
        tier_title=tier.title if tier else "",
        tier_discount=f"{tier.discount_pct:g}" if tier else "",
    )


def _line(runtime: Runtime, item_id: str, quantity: int, unit_minor: int) -> Line:
    currency = runtime.settings.currency
    item = runtime.catalog.get(item_id)
    view = (
        item_view(item, currency)
        if item
        else ItemView(
            item_id=item_id, title=item_id, brand="", category="", colour="", price="", image="", in_stock=False
        )
    )
    return Line(
        item=view,
        quantity=quantity,
        unit=money.format_amount(unit_minor, currency),
        total=money.format_amount(unit_minor * quantity, currency),
    )
