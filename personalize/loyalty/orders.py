"""Orders and refunds from the shop's order system: converted to the ledger's terms and applied exactly once, in a
store transaction that runs the pure rules of ``loyalty_nudges.ledger``."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

import msgspec

from loyalty_nudges import ledger as rules
from loyalty_nudges.coupons import normalize
from loyalty_nudges.earning import challenge_mark, challenges_met
from loyalty_nudges.ledger import Ledger, OrderInput, OrderLine, StoredOrder
from personalize import money
from personalize.catalog.index import CatalogIndex
from personalize.clock import epoch_ms
from personalize.errors import Conflict, InvalidInput, NotFound
from personalize.experiments.attribution import order_moves, refund_moves, wanted_units
from personalize.loyalty.standing import loyalty_state, standing_for
from personalize.loyalty.types import OrderIn, OrderResult, RefundIn, RefundResult
from personalize.runtime import Runtime
from personalize.settings import Settings
from personalize.store.loyalty_protocols import LedgerChange, Notice, Reads, Wants
from personalize.tracking.scoring import TrackingWrite, purchase_events

log = logging.getLogger("personalize.loyalty")
_RESULT = msgspec.json.Encoder()


def to_input(order: OrderIn, catalog: CatalogIndex, settings: Settings) -> OrderInput:
    """The ledger's view of a wire order; refuses another currency and amounts the currency cannot hold."""
    currency, program = settings.currency, settings.loyalty
    if order.currency != currency:
        raise InvalidInput(f"currency {order.currency!r} is not the shop's {currency}", "currency")
    completed = epoch_ms(order.completed_at)
    recent = completed - program.points.new_collection_days * rules.DAY_MS
    lines = []
    for index, line in enumerate(order.items):
        item = catalog.get(line.item_id)
        lines.append(
            OrderLine(
                item_id=line.item_id,
                quantity=line.quantity,
                unit_minor=money.minor_units(line.price, currency, f"items[{index}].price"),
                on_promotion=line.on_promotion,
                new_collection=item is not None and item.created_at_ms >= recent,
                tags=item.tags if item else (),
                category=item.category if item else "",
            )
        )
    return OrderInput(
        order_id=order.order_id,
        customer_id=order.customer_id,
        completed_at_ms=completed,
        lines=tuple(lines),
        total_minor=money.minor_units(order.total, currency, "total"),
        coupon_code=normalize(order.coupon_code) if order.coupon_code else None,
    )


async def complete_order(runtime: Runtime, order: OrderIn, now_ms: int) -> OrderResult:
    """Apply an order once; a second delivery (even concurrent, from another process) replays the first, and one
    that differs from it is a conflict."""
    settings = runtime.settings
    program, exponent = settings.loyalty, settings.currency_exponent
    entry = to_input(order, runtime.catalog, settings)
    met = {challenge_mark(c.id, entry.customer_id, entry.completed_at_ms): c for c in challenges_met(entry, program)}
    experiments = runtime.experiments.running(entry.completed_at_ms)

    def decide(reads: Reads) -> LedgerChange:
        ledger, stored = reads.ledger, reads.order
        if stored is not None:
            return LedgerChange(result=_replayed(stored, entry))
        completed = [(mark, c) for mark, c in met.items() if reads.marks.get(mark) is None]
        bonus = sum(c.bonus for _, c in completed)
        grown, applied = rules.apply_order(ledger, entry, program, exponent, now_ms, bonus)
        result = _first_result(settings, entry, applied, grown, now_ms, [c.id for _, c in completed])
        totals = {
            "orders": 1,
            "lifetime_minor": entry.total_minor,
            **tier_moves(ledger.tier if ledger else None, grown.tier),
        }
        if ledger is None or not ledger.history:
            totals["customers"] = 1  # a customer is counted from their first order
        moves = order_moves(
            experiments,
            reads.units,
            customer_id=entry.customer_id,
            session_id=order.session_id,
            revenue=entry.total_minor,
            items=sum(line.quantity for line in entry.lines),
            at_ms=entry.completed_at_ms,
        )
        stored_order = msgspec.structs.replace(applied, receipt=_RESULT.encode(result), attributed=moves.attributed)
        notices = order_notices(entry.customer_id, applied, result, now_ms)
        marks = {mark: entry.order_id.encode() for mark, _ in completed}
        return LedgerChange(
            ledger=grown, order=stored_order, totals=totals, notices=notices, marks=marks, units=moves.units,
            arm_sums=moves.arm_sums, result=result,
        )  # fmt: skip

    units = wanted_units(experiments, entry.customer_id, order.session_id)
    wants = Wants(order_id=entry.order_id, marks=tuple(met), units=units)
    change = await runtime.store.ledger.act(entry.customer_id, wants, decide)
    result: OrderResult = change.result
    if change.ledger is not None and result.tier_changed:
        log.debug("customer %s: tier %s → %s by order %s", entry.customer_id, result.tier_before, result.loyalty.tier,
                  result.order_id)  # fmt: skip
    await _learn_purchase(runtime, order, entry, now_ms)
    return result


async def apply_history(runtime: Runtime, customer_id: str, orders: Sequence[tuple[OrderIn, int]]) -> int:
    """One customer's past orders, each applied at its own time (``(order, at_ms)``, oldest first), in one store
    transaction and one tracking write: how a history is loaded into a store that has none of it yet (the demo
    store), many times faster than posting each order. An order the ledger already holds is skipped; a history
    tells the outbox nothing (it is the past, not news). Returns how many were applied."""
    entries = [(to_input(order, runtime.catalog, runtime.settings), at) for order, at in orders]
    change = await runtime.store.ledger.transact(
        customer_id, None, lambda ledger, _: _history_change(runtime.settings, ledger, entries)
    )
    events = tuple(
        event
        for entry, at in entries
        for event in purchase_events(
            entry.order_id,
            [(line.item_id, line.quantity) for line in entry.lines],
            runtime.catalog,
            runtime.settings,
            at,
        )
    )
    if events:
        latest = max(at for _, at in entries)
        await runtime.store.tracking.apply(TrackingWrite(f"orders-{customer_id}"[:64], customer_id, latest, events))
    return int(change.result)


def _history_change(settings: Settings, ledger: Ledger | None, entries: list[tuple[OrderInput, int]]) -> LedgerChange:
    """The ledger after every entry it does not hold yet, their stored orders and the totals (pure)."""
    seen = {fact.order_id for fact in ledger.history} if ledger else set()
    current, totals = ledger, Counter[str]()
    stored: list[StoredOrder] = []
    for entry, at in entries:
        if entry.order_id in seen:
            continue
        grown, applied = rules.apply_order(current, entry, settings.loyalty, settings.currency_exponent, at)
        result = _first_result(settings, entry, applied, grown, at, [])
        totals.update({"orders": 1, "lifetime_minor": entry.total_minor, "customers": int(not seen and not stored)})
        totals.update(tier_moves(current.tier if current else None, grown.tier))
        stored.append(msgspec.structs.replace(applied, receipt=_RESULT.encode(result)))
        current = grown
    return LedgerChange(
        ledger=current if stored else None, orders=tuple(stored), totals=dict(totals), result=len(stored)
    )


def _first_result(
    settings: Settings, entry: OrderInput, applied: StoredOrder, grown: Ledger, at: int, challenges: list[str]
) -> OrderResult:
    """The answer an order's first delivery gets (and its replays, from the receipt)."""
    return OrderResult(
        order_id=entry.order_id,
        duplicate=False,
        tier_changed=applied.tier_after != applied.tier_before,
        tier_before=applied.tier_before,
        points_earned=applied.points,
        challenges_completed=challenges,
        qualifying_amount=money.to_major(applied.qualifying_minor, settings.currency),
        loyalty=loyalty_state(standing_for(settings, grown, at), settings.currency),
    )


def _replayed(stored: StoredOrder, entry: OrderInput) -> OrderResult:
    """The first delivery's answer for a replay; a conflict naming what differs when it is another order."""
    differs = rules.replay_difference(stored, entry)
    if differs is not None:
        message = (
            f"order {entry.order_id!r} was already applied with a different {differs}; an order id names one order "
            "(a replay must repeat it exactly)"
        )
        raise Conflict(message, differs, code="order_conflict")
    first = msgspec.json.decode(stored.receipt, type=OrderResult)
    return msgspec.structs.replace(first, duplicate=True)


def _lines(entry: OrderInput) -> list[tuple[str, int]]:
    return [(line.item_id, line.quantity) for line in entry.lines]


async def _learn_purchase(runtime: Runtime, order: OrderIn, entry: OrderInput, now_ms: int) -> None:
    """Purchases feed trending and the buyer's profile (weights ``purchase``). Sent on every delivery of the
    order, so a redelivery repairs a crash between the two writes; the store's event de-duplication (by order
    and item, for ``tracking.dedup_hours``) keeps a redelivery from counting twice."""
    at = min(entry.completed_at_ms, now_ms)
    events = purchase_events(entry.order_id, _lines(entry), runtime.catalog, runtime.settings, at)
    if events:
        session = order.session_id or f"order-{entry.order_id}"[:64]
        await runtime.store.tracking.apply(TrackingWrite(session, entry.customer_id, now_ms, events))


def order_notices(customer_id: str, applied: StoredOrder, result: OrderResult, now_ms: int) -> tuple[Notice, ...]:
    """The outbox notices of an applied order: the points it earned (with the challenges it completed), the tier
    it reached."""
    notices = []
    if applied.points:
        data: dict[str, object] = {"order_id": applied.order_id, "points": applied.points}
        data["balance"] = result.loyalty.points
        if result.challenges_completed:
            data["challenges"] = result.challenges_completed
        notices.append(Notice(kind="points_earned", customer_id=customer_id, at_ms=now_ms, data=data))
    if applied.tier_after != applied.tier_before:
        changed = {"tier_before": applied.tier_before, "tier": applied.tier_after, "order_id": applied.order_id}
        notices.append(Notice(kind="tier_changed", customer_id=customer_id, at_ms=now_ms, data=changed))
    return tuple(notices)


def tier_moves(before: str | None, after: str | None) -> dict[str, int]:
    """The per-tier counter deltas of a tier change."""
    if before == after:
        return {}
    moves = {f"tier:{after}": 1} if after else {}
    if before:
        moves[f"tier:{before}"] = -1
    return moves


async def refund_order(runtime: Runtime, order_id: str, refund: RefundIn, now_ms: int) -> RefundResult:
    """Apply a refund once, pro rata; not found for an unknown order, ``RefundError`` when too large, a conflict
    when a replayed refund id asks another amount."""
    settings = runtime.settings
    program, exponent, currency = settings.loyalty, settings.currency_exponent, settings.currency
    known = await runtime.store.ledger.order(order_id)
    if known is None:
        raise NotFound(f"no order {order_id!r}", "order_id")
    amount = money.minor_units(refund.amount, currency, "amount") if refund.amount is not None else None

    def decide(reads: Reads) -> LedgerChange:
        ledger, stored = reads.ledger, reads.order
        if ledger is None or stored is None:
            raise NotFound(f"no order {order_id!r}", "order_id")
        done = next((r for r in stored.refunds if r.refund_id == refund.refund_id), None)
        if done is not None:
            _check_same_refund(done, amount, currency)
            return LedgerChange(result=_refund_result(settings, stored, done, ledger, now_ms, duplicate=True))
        shrunk, updated, outcome = rules.apply_refund(
            ledger, stored, refund.refund_id, amount, program, exponent, now_ms
        )
        totals = {"lifetime_minor": -outcome.amount_minor, **tier_moves(ledger.tier, shrunk.tier)}
        result = _refund_result(settings, updated, outcome, shrunk, now_ms, duplicate=False)
        notices: tuple[Notice, ...] = ()
        if shrunk.tier != ledger.tier:
            data = {"tier_before": ledger.tier, "tier": shrunk.tier, "refund_id": refund.refund_id}
            notices = (Notice(kind="tier_changed", customer_id=ledger.customer_id, at_ms=now_ms, data=data),)
        moves = refund_moves(stored, reads.units, outcome.amount_minor, whole=updated.remaining_minor == 0)
        return LedgerChange(
            ledger=shrunk, order=updated, totals=totals, notices=notices, units=moves.units,
            arm_sums=moves.arm_sums, result=result,
        )  # fmt: skip

    wants = Wants(order_id=order_id, units=known.attributed)
    change = await runtime.store.ledger.act(known.customer_id, wants, decide)
    return change.result  # type: ignore[no-any-return]


def _check_same_refund(done: rules.Refund, amount: int | None, currency: str) -> None:
    if amount is not None and amount != done.amount_minor:
        message = (
            f"refund {done.refund_id!r} was already applied for {money.format_amount(done.amount_minor, currency)}; "
            f"this one asks {money.format_amount(amount, currency)} (a refund id names one refund)"
        )
        raise Conflict(message, "amount", code="refund_conflict")


def _refund_result(
    settings: Settings, order: StoredOrder, refund: rules.Refund, ledger: Ledger, now_ms: int, duplicate: bool
) -> RefundResult:
    currency = settings.currency
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
        loyalty=loyalty_state(standing_for(settings, ledger, now_ms), currency),
    )
