"""Orders, refunds and loyalty state at the edge: wire types, conversion to the ledger's terms, and the
store transactions that apply the pure rules of ``loyalty_nudges.ledger`` exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from loyalty_nudges import ledger as rules
from loyalty_nudges.ledger import Ledger, OrderInput, OrderLine, StoredOrder
from loyalty_nudges.program import Tier
from personalize import money
from personalize.catalog.index import CatalogIndex, ItemId
from personalize.clock import WireTime, check_time, epoch_ms
from personalize.errors import ApiError
from personalize.runtime import Runtime
from personalize.store.protocols import LedgerChange
from personalize.tracking.scoring import TrackingWrite, purchase_events

Id = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:@\-]+$")]
_RESULT = msgspec.json.Encoder()


class OrderLineIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One order line; ``price`` is the unit price paid."""

    item_id: ItemId
    quantity: Annotated[int, Meta(ge=1, le=10_000)] = 1
    price: money.Amount
    on_promotion: bool = False

    def __post_init__(self) -> None:
        money.check_amount(self.price, "price")


class OrderIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/orders``: a completed order, idempotent on ``order_id``."""

    order_id: Id
    customer_id: Id
    items: Annotated[list[OrderLineIn], Meta(min_length=1, max_length=500)]
    total: money.Amount
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
    completed_at: WireTime
    session_id: Annotated[str, Meta(max_length=64)] | None = None
    coupon_code: Annotated[str, Meta(max_length=64)] | None = None

    def __post_init__(self) -> None:
        check_time(self.completed_at, "completed_at")
        money.check_amount(self.total, "total")


class RefundIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/orders/{order_id}/refunds``: without ``amount`` the rest of the order is refunded."""

    refund_id: Id
    amount: money.OptionalAmount = None
    reason: Annotated[str, Meta(max_length=200)] | None = None

    def __post_init__(self) -> None:
        if self.amount is not None:
            money.check_amount(self.amount, "amount")


class Expiry(msgspec.Struct):
    """The next points to expire and when."""

    points: int
    expires_at: datetime


class LoyaltyState(msgspec.Struct, kw_only=True):
    """``GET /v1/customers/{customer_id}/loyalty``: money in the shop currency."""

    customer_id: str
    tier: str | None
    discount_pct: float
    qualifying_spend: float
    lifetime_spend: float
    points: int
    pending_points: int
    engagement_score: float
    next_tier: str | None
    remaining: float | None
    next_expiry: Expiry | None
    segment: str | None
    orders: int


class OrderResult(msgspec.Struct, kw_only=True):
    """Response of ``POST /v1/orders``; a replay returns the first response with ``duplicate: true``."""

    order_id: str
    duplicate: bool
    tier_changed: bool
    tier_before: str | None
    points_earned: int
    qualifying_amount: float
    loyalty: LoyaltyState


class RefundResult(msgspec.Struct, kw_only=True):
    """Response of a refund; a replayed ``refund_id`` returns what it did with ``duplicate: true``."""

    order_id: str
    refund_id: str
    duplicate: bool
    amount: float
    refunded_total: float
    remaining: float
    qualifying_reversed: float
    points_reversed: int
    tier_reverted: bool
    loyalty: LoyaltyState


def to_input(order: OrderIn, catalog: CatalogIndex, runtime: Runtime) -> OrderInput:
    """The ledger's view of a wire order; refuses another currency."""
    program = runtime.settings.loyalty
    if order.currency != program.currency:
        raise ApiError(
            400, "invalid_request", f"currency {order.currency!r} is not the shop's {program.currency}", "currency"
        )
    completed = epoch_ms(order.completed_at)
    recent = completed - program.points.new_collection_days * rules.DAY_MS
    lines = tuple(
        OrderLine(
            item_id=line.item_id,
            quantity=line.quantity,
            unit_minor=money.minor_units(line.price, program.currency, f"items[{index}].price"),
            on_promotion=line.on_promotion,
            new_collection=_created_after(catalog, line.item_id, recent),
        )
        for index, line in enumerate(order.items)
    )
    return OrderInput(
        order_id=order.order_id,
        customer_id=order.customer_id,
        completed_at_ms=completed,
        lines=lines,
        total_minor=money.minor_units(order.total, program.currency, "total"),
    )


def _created_after(catalog: CatalogIndex, item_id: str, since_ms: int) -> bool:
    item = catalog.get(item_id)
    return item is not None and item.created_at_ms >= since_ms


async def complete_order(runtime: Runtime, order: OrderIn, now_ms: int) -> OrderResult:
    """Apply an order once; a second delivery (even concurrent, from another process) replays the first."""
    program, exponent = runtime.settings.loyalty, money.exponent(runtime.settings.loyalty.currency)
    entry = to_input(order, runtime.catalog, runtime)

    def decide(ledger: Ledger | None, stored: StoredOrder | None) -> LedgerChange:
        if stored is not None:
            differs = rules.replay_difference(stored, entry)
            if differs is not None:
                raise ApiError(
                    409,
                    "order_conflict",
                    f"order {entry.order_id!r} was already applied with a different {differs}; an order id names one "
                    "order (a replay must repeat it exactly)",
                    differs,
                )
            first = msgspec.json.decode(stored.receipt, type=OrderResult)
            return LedgerChange(result=msgspec.structs.replace(first, duplicate=True))
        grown, applied = rules.apply_order(ledger, entry, program, exponent, now_ms)
        result = OrderResult(
            order_id=entry.order_id,
            duplicate=False,
            tier_changed=applied.tier_after != applied.tier_before,
            tier_before=applied.tier_before,
            points_earned=applied.points,
            qualifying_amount=money.to_major(applied.qualifying_minor, program.currency),
            loyalty=state_of(runtime, grown, now_ms),
        )
        totals = {
            "orders": 1,
            "lifetime_minor": entry.total_minor,
            **_tier_moves(ledger.tier if ledger else None, grown.tier),
        }
        if ledger is None or not ledger.history:
            totals["customers"] = 1  # a customer is counted from their first order
        stored_order = msgspec.structs.replace(applied, receipt=_RESULT.encode(result))
        return LedgerChange(ledger=grown, order=stored_order, totals=totals, result=result)

    change = await runtime.store.ledger.transact(entry.customer_id, entry.order_id, decide)
    result: OrderResult = change.result
    if change.ledger is not None and result.tier_changed:
        _log_tier(result)
    await _learn_purchase(runtime, order, entry, now_ms)
    return result


async def _learn_purchase(runtime: Runtime, order: OrderIn, entry: OrderInput, now_ms: int) -> None:
    """Purchases feed trending and the buyer's profile (weights ``purchase``). Sent on every delivery of the
    order, so a redelivery repairs a crash between the two writes; the store's event de-duplication (by order
    and item, for ``tracking.dedup_hours``) keeps a redelivery from counting twice."""
    lines = [(line.item_id, line.quantity) for line in entry.lines]
    events = purchase_events(
        entry.order_id, lines, runtime.catalog, runtime.settings, min(entry.completed_at_ms, now_ms)
    )
    if events:
        session = order.session_id or f"order-{entry.order_id}"[:64]
        await runtime.store.tracking.apply(TrackingWrite(session, entry.customer_id, now_ms, events))


def _log_tier(result: OrderResult) -> None:
    import logging

    logging.getLogger("personalize.loyalty").debug(
        "customer %s: tier %s → %s by order %s",
        result.loyalty.customer_id,
        result.tier_before,
        result.loyalty.tier,
        result.order_id,
    )


def _tier_moves(before: str | None, after: str | None) -> dict[str, int]:
    if before == after:
        return {}
    moves = {f"tier:{after}": 1} if after else {}
    if before:
        moves[f"tier:{before}"] = -1
    return moves


async def refund_order(runtime: Runtime, order_id: str, refund: RefundIn, now_ms: int) -> RefundResult:
    """Apply a refund once, pro rata; 404 for an unknown order, 422 naming what remains when too large."""
    program, exponent = runtime.settings.loyalty, money.exponent(runtime.settings.loyalty.currency)
    known = await runtime.store.ledger.order(order_id)
    if known is None:
        raise ApiError(404, "not_found", f"no order {order_id!r}", "order_id")
    amount = money.minor_units(refund.amount, program.currency, "amount") if refund.amount is not None else None

    def decide(ledger: Ledger | None, stored: StoredOrder | None) -> LedgerChange:
        if ledger is None or stored is None:
            raise ApiError(404, "not_found", f"no order {order_id!r}", "order_id")
        done = next((r for r in stored.refunds if r.refund_id == refund.refund_id), None)
        if done is not None and amount is not None and amount != done.amount_minor:
            first = money.format_amount(done.amount_minor, program.currency)
            raise ApiError(
                409,
                "refund_conflict",
                f"refund {refund.refund_id!r} was already applied for {first}; this one asks "
                f"{money.format_amount(amount, program.currency)} (a refund id names one refund)",
                "amount",
            )
        if done is not None:
            return LedgerChange(result=_refund_result(runtime, stored, done, ledger, now_ms, duplicate=True))
        try:
            shrunk, updated, outcome = rules.apply_refund(
                ledger, stored, refund.refund_id, amount, program, exponent, now_ms
            )
        except rules.RefundError as exc:
            remaining = money.format_amount(exc.remaining_minor, program.currency)
            raise ApiError(
                422, "refund_too_large", f"amount: {exc}; {remaining} remains refundable", "amount"
            ) from None
        totals = {"lifetime_minor": -outcome.amount_minor, **_tier_moves(ledger.tier, shrunk.tier)}
        result = _refund_result(runtime, updated, outcome, shrunk, now_ms, duplicate=False)
        return LedgerChange(ledger=shrunk, order=updated, totals=totals, result=result)

    change = await runtime.store.ledger.transact(known.customer_id, order_id, decide)
    return change.result  # type: ignore[no-any-return]


def _refund_result(
    runtime: Runtime, order: StoredOrder, refund: rules.Refund, ledger: Ledger, now_ms: int, duplicate: bool
) -> RefundResult:
    currency = runtime.settings.loyalty.currency
    return RefundResult(
        order_id=order.order_id,
        refund_id=refund.refund_id,
        duplicate=duplicate,
        amount=money.to_major(refund.amount_minor, currency),
        refunded_total=money.to_major(order.refunded_minor, currency),
        remaining=money.to_major(order.remaining_minor, currency),
        qualifying_reversed=money.to_major(refund.qualifying_minor, currency),
        points_reversed=refund.points,
        tier_reverted=refund.tier_reverted,
        loyalty=state_of(runtime, ledger, now_ms),
    )


def state_of(runtime: Runtime, ledger: Ledger, now_ms: int, segment: str | None = None) -> LoyaltyState:
    """The loyalty state the API shows for a ledger."""
    program = runtime.settings.loyalty
    currency = program.currency
    qualifying = rules.qualifying_spend(ledger, program, now_ms)
    tier = program.tier_named(ledger.tier)
    above, remaining = next_tier(runtime, ledger, now_ms)
    spendable, pending = rules.points_balance(ledger, now_ms)
    expiry = rules.next_expiry(ledger, now_ms)
    return LoyaltyState(
        customer_id=ledger.customer_id,
        tier=ledger.tier,
        discount_pct=tier.discount_pct if tier else 0,
        qualifying_spend=money.to_major(qualifying, currency),
        lifetime_spend=money.to_major(ledger.lifetime_minor, currency),
        points=spendable,
        pending_points=pending,
        engagement_score=round(ledger.engagement, 3),
        next_tier=above.name if above else None,
        remaining=money.to_major(remaining, currency) if remaining is not None else None,
        next_expiry=Expiry(expiry[0], datetime.fromtimestamp(expiry[1] / 1000, tz=UTC)) if expiry else None,
        segment=segment,
        orders=len(ledger.history),
    )


def next_tier(runtime: Runtime, ledger: Ledger, now_ms: int) -> tuple[Tier | None, int | None]:
    """The tier above the customer's and the qualifying spend (minor units) still missing for it."""
    program = runtime.settings.loyalty
    tier = program.tier_named(ledger.tier)
    above = [t for t in program.tiers if t.threshold > (tier.threshold if tier else -1)]
    if not above:
        return None, None
    qualifying = rules.qualifying_spend(ledger, program, now_ms)
    return above[0], max(0, program.threshold_minor(above[0], money.exponent(program.currency)) - qualifying)


async def record_engagement(runtime: Runtime, customer_id: str, kinds: list[str], now_ms: int) -> float:
    """Move a signed customer's engagement score for events a browser sent (capped per day); returns the
    change applied. Purchases count when orders complete, never from a browser."""
    program = runtime.settings.loyalty
    counted = [
        kind for kind in kinds if kind not in ("purchase", "cart_abandoned") and program.engagement.weights.get(kind)
    ]
    carted = "add_to_cart" in kinds
    if not counted and not carted:
        return 0.0

    def decide(ledger: Ledger | None, _: StoredOrder | None) -> LedgerChange:
        current = ledger or Ledger(customer_id=customer_id)
        total = 0.0
        for kind in counted:
            current, applied = rules.add_engagement(current, kind, program, True, now_ms)
            total += applied
        if carted:
            current = msgspec.structs.replace(current, cart_touched_ms=now_ms)
        return LedgerChange(ledger=current, result=total)

    change = await runtime.store.ledger.transact(customer_id, None, decide)
    return float(change.result)


async def count_abandoned_carts(runtime: Runtime, now_ms: int) -> int:
    """Apply the ``cart_abandoned`` engagement weight to every cart left alone long enough; returns how many."""
    program = runtime.settings.loyalty
    due = [
        ledger.customer_id
        async for ledger in runtime.store.ledger.ledgers()
        if rules.abandon_cart(ledger, program, now_ms) is not None
    ]

    def decide(ledger: Ledger | None, _: StoredOrder | None) -> LedgerChange:
        abandoned = rules.abandon_cart(ledger, program, now_ms) if ledger else None
        return LedgerChange(ledger=abandoned, result=abandoned is not None)

    counted = 0
    for customer_id in due:
        counted += bool((await runtime.store.ledger.transact(customer_id, None, decide)).result)
    return counted
