"""Customer records — stored, erased, exported — and the bonus points that do not come from orders: the welcome bonus
on a customer's first record, and named actions the shop's server reports (``recycling_dropoff``), each one store
step with its notices.

Erasure drops the record, the long-term profile, the sessions' links and the unused codes assigned to the customer,
and keeps the ledger (orders, points, tier) under the id for the shop's accounts. Each part is idempotent, so an
erasure interrupted half way is completed by the next ``DELETE``.
"""

from __future__ import annotations

import msgspec

from loyalty_nudges.coupons import Coupon
from loyalty_nudges.customers import CustomerRecord
from loyalty_nudges.ledger import DAY_MS, Ledger, Lot, StoredOrder, add_months, points_balance
from loyalty_nudges.program import ActionRule, LoyaltyProgram
from personalize import money
from personalize.clock import epoch_ms, utc
from personalize.errors import Conflict, Refused
from personalize.loyalty.coupons import coupon_out, single_use
from personalize.loyalty.customer_types import (
    ActionIn,
    ActionOut,
    CustomerExport,
    CustomerIn,
    CustomerOut,
    Erased,
    OrderLineOut,
    OrderOut,
)
from personalize.loyalty.standing import loyalty_state, standing_for
from personalize.runtime import Runtime
from personalize.settings import Settings
from personalize.store.loyalty_protocols import LedgerChange, Notice, Reads, Wants

WELCOME_LOT = "welcome"
_ACTION = msgspec.json.Encoder()


async def put_customer(runtime: Runtime, customer_id: str, body: CustomerIn, now_ms: int) -> CustomerOut:
    """Store the customer's record whole; the first one stored gives the welcome bonus (once, ever). Sending the
    same record again changes nothing."""
    program = runtime.settings.loyalty

    def decide(reads: Reads) -> LedgerChange:
        ledger = reads.ledger or Ledger(customer_id=customer_id)
        record = _record(ledger.record, body, now_ms)
        created = ledger.record is None
        bonus = program.earning.welcome_bonus if not ledger.welcomed else 0
        changed = msgspec.structs.replace(ledger, record=record, welcomed=ledger.welcomed or bonus > 0)
        notices: tuple[Notice, ...] = ()
        if bonus:
            changed = msgspec.structs.replace(
                changed, lots=(*changed.lots, _bonus_lot(WELCOME_LOT, bonus, program, now_ms))
            )
            balance = points_balance(changed, now_ms)[0]
            data = {"reason": "welcome", "points": bonus, "balance": balance}
            notices = (Notice(kind="points_earned", customer_id=customer_id, at_ms=now_ms, data=data),)
        if changed == reads.ledger:
            return LedgerChange(result=(changed, False, 0))
        return LedgerChange(ledger=changed, notices=notices, result=(changed, created, bonus))

    change = await runtime.store.ledger.act(customer_id, Wants(), decide)
    ledger, created, bonus = change.result
    return customer_out(ledger, created=created, welcome_points=bonus, now_ms=now_ms)


def _record(current: CustomerRecord | None, body: CustomerIn, now_ms: int) -> CustomerRecord:
    """The record ``body`` describes; times it does not give keep the stored ones (the same body is the same
    record, so a repeated ``PUT`` writes nothing)."""
    consent_changed = current is None or current.email_consent != body.email_consent
    if body.email_consent_at is not None:
        consent_at: int | None = epoch_ms(body.email_consent_at)
    elif consent_changed:
        consent_at = now_ms if body.email_consent or current is not None else None
    else:
        consent_at = current.consent_at_ms if current else None
    joined = epoch_ms(body.joined_at) if body.joined_at is not None else (current.joined_at_ms if current else now_ms)
    fresh = CustomerRecord(
        first_name=body.first_name,
        email=body.email,
        birthday=body.birthday,
        country=body.country,
        locale=body.locale,
        email_consent=body.email_consent,
        consent_at_ms=consent_at,
        joined_at_ms=joined,
        updated_at_ms=current.updated_at_ms if current else now_ms,
    )
    if current is not None and fresh != current:
        fresh = msgspec.structs.replace(fresh, updated_at_ms=now_ms)
    return fresh


def _bonus_lot(lot_id: str, points: int, program: LoyaltyProgram, now_ms: int) -> Lot:
    """Bonus points: spendable at once, expiring like an order's points."""
    return Lot(lot_id, points, points, now_ms, add_months(now_ms, program.points.expiry_months), now_ms)


def customer_out(ledger: Ledger, *, created: bool, welcome_points: int, now_ms: int) -> CustomerOut:
    """The wire form of a customer's record."""
    record = ledger.record
    assert record is not None, "a customer answered with a record has one"
    return CustomerOut(
        customer_id=ledger.customer_id,
        first_name=record.first_name,
        email=record.email,
        birthday=record.birthday,
        country=record.country,
        locale=record.locale,
        email_consent=record.email_consent,
        email_consent_at=utc(record.consent_at_ms) if record.consent_at_ms is not None else None,
        joined_at=utc(record.joined_at_ms),
        updated_at=utc(record.updated_at_ms),
        created=created,
        welcome_points=welcome_points,
        points=points_balance(ledger, now_ms)[0],
    )


async def record_action(runtime: Runtime, customer_id: str, body: ActionIn, now_ms: int) -> ActionOut:
    """Give an action's points (and its code) once per ``action_id``; a replay answers the first time."""
    rule = runtime.settings.loyalty.earning.action_named(body.action)
    if rule is None:
        named = ", ".join(a.name for a in runtime.settings.loyalty.earning.actions) or "none"
        raise Refused(f"action {body.action!r} is not an action of the program (actions: {named})", "action")
    mark = f"action:{body.action_id}"
    while True:  # a drawn code that collides with one ever issued is drawn again
        coupon = _action_coupon(rule, customer_id, now_ms)
        wants = Wants(marks=(mark,), codes=(coupon.code,) if coupon else ())

        def decide(reads: Reads, coupon: Coupon | None = coupon) -> LedgerChange:
            return _action_change(runtime.settings, reads, customer_id, body, rule, coupon, now_ms)

        change = await runtime.store.ledger.act(customer_id, wants, decide)
        if change.result is not None:
            break
    result: ActionOut = change.result
    return result


def _action_change(
    settings: Settings,
    reads: Reads,
    customer_id: str,
    body: ActionIn,
    rule: ActionRule,
    coupon: Coupon | None,
    now_ms: int,
) -> LedgerChange:
    """What one action writes (pure); ``result`` is ``None`` when the drawn code is taken."""
    mark = f"action:{body.action_id}"
    done = reads.marks.get(mark)
    if done is not None:
        first = msgspec.json.decode(done, type=ActionOut)
        if first.customer_id != customer_id or first.action != body.action:
            raise Conflict(
                f"action {body.action_id!r} was recorded as {first.action!r} for customer {first.customer_id!r}; "
                "an action id names one action",
                "action_id",
                code="action_conflict",
            )
        return LedgerChange(result=msgspec.structs.replace(first, duplicate=True))
    if coupon is not None and reads.coupons.get(coupon.code) is not None:
        return LedgerChange(result=None)
    ledger = reads.ledger or Ledger(customer_id=customer_id)
    lots = (*ledger.lots, _bonus_lot(mark, rule.points, settings.loyalty, now_ms)) if rule.points else ledger.lots
    grown = msgspec.structs.replace(ledger, lots=lots)
    balance = points_balance(grown, now_ms)[0]
    notices = []
    if rule.points:
        data = {"reason": rule.name, "action_id": body.action_id, "points": rule.points, "balance": balance}
        notices.append(Notice(kind="points_earned", customer_id=customer_id, at_ms=now_ms, data=data))
    if coupon is not None:
        data = {"code": coupon.code, "action": rule.name, "expires_at_ms": coupon.expires_at_ms}
        notices.append(Notice(kind="coupon_issued", customer_id=customer_id, at_ms=now_ms, data=data))
    result = ActionOut(
        action_id=body.action_id,
        action=rule.name,
        customer_id=customer_id,
        points_earned=rule.points,
        points=balance,
        coupon=coupon_out(coupon, settings.currency) if coupon else None,
    )
    return LedgerChange(
        ledger=grown,
        coupons=(coupon,) if coupon else (),
        notices=tuple(notices),
        marks={mark: _ACTION.encode(result)},
        result=result,
    )


def _action_coupon(rule: ActionRule, customer_id: str, now_ms: int) -> Coupon | None:
    if rule.coupon_percent is None:
        return None
    expires = now_ms + rule.coupon_valid_days * DAY_MS
    return single_use(
        f"action:{rule.name}", customer_id, prefix="AC", valid_from_ms=now_ms, expires_at_ms=expires,
        discount_pct=rule.coupon_percent,
    )  # fmt: skip


async def erase_customer(runtime: Runtime, customer_id: str) -> Erased:
    """Remove what is personal about a customer (see the module's docstring)."""
    store = runtime.store

    def decide(reads: Reads) -> LedgerChange:
        if reads.ledger is None or reads.ledger.record is None:
            return LedgerChange(result=False)
        return LedgerChange(ledger=msgspec.structs.replace(reads.ledger, record=None), result=True)

    removed = (await store.ledger.act(customer_id, Wants(), decide)).result
    sessions = await store.tracking.forget_customer(customer_id)
    codes = await store.coupons.forget_customer(customer_id)
    return Erased(
        customer_id=customer_id, record_removed=removed, sessions_unlinked=sessions, coupons_removed=len(codes)
    )


async def export_customer(runtime: Runtime, customer_id: str, now_ms: int) -> CustomerExport:
    """Everything held about a customer: the record, the loyalty state, every order, every code, the profile."""
    store, settings = runtime.store, runtime.settings
    currency = settings.currency
    ledger = await store.ledger.ledger(customer_id)
    orders = []
    for fact in ledger.history if ledger else ():
        stored = await store.ledger.order(fact.order_id)
        if stored is not None:
            orders.append(_order_out(stored, currency))
    scores = await store.tracking.customer_scores(customer_id)
    standing = standing_for(settings, ledger, now_ms, await runtime.segment_of(customer_id)) if ledger else None
    return CustomerExport(
        customer_id=customer_id,
        record=customer_out(ledger, created=False, welcome_points=0, now_ms=now_ms)
        if ledger and ledger.record
        else None,
        loyalty=loyalty_state(standing, currency) if standing else None,
        orders=orders,
        coupons=[coupon_out(c, currency) for c in await store.coupons.for_customer(customer_id)],
        profile=dict(scores.scores) if scores else {},
        exported_at=utc(now_ms),
    )


def _order_out(order: StoredOrder, currency: str) -> OrderOut:
    return OrderOut(
        order_id=order.order_id,
        completed_at=utc(order.completed_at_ms),
        total=money.to_major(order.total_minor, currency),
        refunded=money.to_major(order.refunded_minor, currency),
        qualifying_amount=money.to_major(order.qualifying_minor, currency),
        points=order.points,
        coupon_code=order.coupon_code,
        items=[
            OrderLineOut(
                item_id=line.item_id,
                quantity=line.quantity,
                price=money.to_major(line.unit_minor, currency),
                on_promotion=line.on_promotion,
            )
            for line in order.lines
        ],
    )
