"""The loyalty ledger: pure functions from (state, order or refund, program, time) to new state.

Money is integer minor units; points are integers; time is epoch milliseconds passed in. Qualifying spend,
spendable points and the engagement score are three separate ledgers. Every function returns new values
and never mutates, so a store can call them inside an optimistic transaction and simply call again when
another writer got there first.

Rules (DOMAIN.md): a completed order upgrades the tier at once when it crosses a threshold; downgrades
happen only at evaluation time, except that a full refund of the order that caused an upgrade reverts it.
Refunds reverse qualifying spend and points pro rata — cumulatively, so refunding an order in parts ends
exactly where one full refund would.

Exceptions::

    LoyaltyError (program.py)
    └── RefundError       more than what remains of the order, with the remaining amount
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import msgspec

from loyalty_nudges import window
from loyalty_nudges.customers import CustomerRecord
from loyalty_nudges.earning import line_factor
from loyalty_nudges.program import LoyaltyError, LoyaltyProgram
from loyalty_nudges.tiers import higher, tier_for

DAY_MS = 86_400_000


class RefundError(LoyaltyError):
    """A refund larger than what remains refundable; ``remaining_minor`` says how much does."""

    def __init__(self, message: str, remaining_minor: int) -> None:
        super().__init__(message)
        self.remaining_minor = remaining_minor


class OrderLine(msgspec.Struct, frozen=True, kw_only=True):
    """A line in minor units; ``new_collection`` when the item is recent enough for the points bonus."""

    item_id: str
    quantity: int
    unit_minor: int
    on_promotion: bool = False
    new_collection: bool = False
    tags: tuple[str, ...] = ()
    """The item's tags and category when the order came (what earning rules match)."""
    category: str = ""

    @property
    def amount_minor(self) -> int:
        return self.quantity * self.unit_minor


class OrderInput(msgspec.Struct, frozen=True, kw_only=True):
    """A completed order as the ledger sees it."""

    order_id: str
    customer_id: str
    completed_at_ms: int
    lines: tuple[OrderLine, ...]
    total_minor: int
    coupon_code: str | None = None
    """The code the order was placed with (normal form), for the shop's record and campaign reports."""


class Fact(msgspec.Struct, frozen=True, array_like=True):
    """One order in the customer's history: what segments and windowed tiers read."""

    order_id: str
    ts_ms: int
    net_minor: int
    qualifying_minor: int
    on_promotion: bool
    discount_minor: int


class Lot(msgspec.Struct, frozen=True, array_like=True):
    """Points earned by one order (or a bonus), spendable from ``spendable_at_ms``, gone at ``expires_at_ms``."""

    order_id: str
    earned: int
    remaining: int
    spendable_at_ms: int
    expires_at_ms: int
    earned_at_ms: int = 0
    """When they were earned (0 in lots stored before it was kept: read as ``spendable_at_ms``)."""
    noticed: int = 0
    """The expiry notice last sent for the lot, in days before expiry (0: none yet; -1: expired, accounted for)."""


class Ledger(msgspec.Struct, frozen=True, kw_only=True):
    """One customer's loyalty state."""

    customer_id: str
    lifetime_minor: int = 0
    tier: str | None = None
    tier_since_ms: int = 0
    history: tuple[Fact, ...] = ()
    lots: tuple[Lot, ...] = ()
    engagement: float = 0.0
    engagement_day: str = ""
    engagement_browser_today: float = 0.0
    """The net change browser events made to the score on ``engagement_day`` (within ± the daily cap)."""
    cart_touched_ms: int = 0
    """Last add to cart from a browser since the last order (0: none) — for the abandoned-cart rule."""
    record: CustomerRecord | None = None
    """The personal data the shop sent (none before, or after the customer was erased)."""
    welcomed: bool = False
    """The welcome bonus was given (kept through an erasure, so it is never given twice)."""
    evaluated: str = ""
    """The last tier evaluation applied: the day (``2026-12-02``, rolling window) or the year (calendar window)."""
    lapsed_from: str | None = None
    """The tier an evaluation took away, while it can still be regained; ``lapsed_at_ms`` says when."""
    lapsed_at_ms: int = 0
    birthday_coupon_ms: int = 0
    """When the last birthday code was issued (0: never)."""


class Refund(msgspec.Struct, frozen=True, kw_only=True):
    """What one refund reversed."""

    refund_id: str
    amount_minor: int
    qualifying_minor: int
    points: int
    tier_reverted: bool


class StoredOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An applied order: what it added, what refunds took back, and the tier change it caused."""

    order_id: str
    customer_id: str
    completed_at_ms: int
    total_minor: int
    qualifying_minor: int
    points: int
    tier_before: str | None
    tier_after: str | None
    refunded_minor: int = 0
    refunds: tuple[Refund, ...] = ()
    receipt: bytes = b""
    """The response the order's first delivery got, replayed to later deliveries."""
    digest: str = ""
    """A digest of the first delivery's lines, so a redelivery that differs is told apart from a replay."""
    lines: tuple[OrderLine, ...] = ()
    """The order's lines as delivered (receipts and confirmations show them)."""
    coupon_code: str | None = None
    attributed: tuple[tuple[str, str], ...] = ()
    """The experiments the order counts for, as ``(experiment id, unit)`` (its refunds move the same units)."""

    @property
    def remaining_minor(self) -> int:
        """What can still be refunded."""
        return self.total_minor - self.refunded_minor


def order_digest(order: OrderInput) -> str:
    """What identifies an order's content: customer, time, total and every line (SHA-256, hex)."""
    lines = ";".join(
        f"{line.item_id},{line.quantity},{line.unit_minor},{int(line.on_promotion)}" for line in order.lines
    )
    text = f"{order.customer_id}|{order.completed_at_ms}|{order.total_minor}|{lines}"
    return hashlib.sha256(text.encode()).hexdigest()


def replay_difference(stored: StoredOrder, order: OrderInput) -> str | None:
    """How a redelivery differs from the order first applied (``None``: it is the same order)."""
    if not stored.digest or stored.digest == order_digest(order):
        return None
    for name, first, now in (
        ("customer_id", stored.customer_id, order.customer_id),
        ("total", stored.total_minor, order.total_minor),
        ("completed_at", stored.completed_at_ms, order.completed_at_ms),
    ):
        if first != now:
            return name
    return "items"


def order_amounts(order: OrderInput, program: LoyaltyProgram, exponent: int) -> tuple[int, int, int]:
    """(qualifying spend, points, discount) of an order, all exact.

    Qualifying spend is the qualifying lines' amount, capped at what was paid; points are ``per_unit`` per
    whole currency unit of it, each line counting its multiplier (:func:`loyalty_nudges.earning.line_factor`)."""
    lines_total = sum(line.amount_minor for line in order.lines)
    eligible = [line for line in order.lines if program.promotions_qualify or not line.on_promotion]
    raw = sum(line.amount_minor for line in eligible)
    qualifying = min(raw, order.total_minor)
    at = order.completed_at_ms
    boosted = sum(line.amount_minor * line_factor(line, program, at) for line in eligible)
    scale = qualifying / raw if raw else 0.0
    points = int(boosted * scale * program.points.per_unit // 10**exponent)
    return qualifying, points, max(0, lines_total - order.total_minor)


def apply_order(
    ledger: Ledger | None, order: OrderInput, program: LoyaltyProgram, exponent: int, now_ms: int, bonus: int = 0
) -> tuple[Ledger, StoredOrder]:
    """Add a completed order: spend, history, a points lot (with ``bonus`` points of challenges it completed),
    engagement, and an immediate upgrade."""
    current = ledger or Ledger(customer_id=order.customer_id)
    qualifying, purchase, discount = order_amounts(order, program, exponent)
    points = purchase + bonus
    fact = Fact(
        order.order_id,
        order.completed_at_ms,
        order.total_minor,
        qualifying,
        any(line.on_promotion for line in order.lines),
        discount,
    )
    lot = Lot(
        order.order_id,
        points,
        points,
        order.completed_at_ms + program.points.return_window_days * DAY_MS,
        add_months(order.completed_at_ms, program.points.expiry_months),
        order.completed_at_ms,
    )
    grown = msgspec.structs.replace(
        current,
        lifetime_minor=current.lifetime_minor + order.total_minor,
        history=(*current.history, fact),
        lots=(*current.lots, lot) if points else current.lots,
        engagement=current.engagement + program.engagement.weights.get("purchase", 0.0),
        cart_touched_ms=0,
    )
    reached = tier_for(window.qualifying(grown, program, now_ms), program, exponent)
    after = higher(program, current.tier, reached.name if reached else None)
    if after != current.tier:  # reached when the order completed (a late delivery, an imported history)
        grown = msgspec.structs.replace(grown, tier=after, tier_since_ms=min(order.completed_at_ms, now_ms))
    stored = StoredOrder(
        order_id=order.order_id,
        customer_id=order.customer_id,
        completed_at_ms=order.completed_at_ms,
        total_minor=order.total_minor,
        qualifying_minor=qualifying,
        points=points,
        tier_before=current.tier,
        tier_after=after,
        digest=order_digest(order),
        lines=order.lines,
        coupon_code=order.coupon_code,
    )
    return grown, stored


def apply_refund(
    ledger: Ledger,
    order: StoredOrder,
    refund_id: str,
    amount_minor: int | None,
    program: LoyaltyProgram,
    exponent: int,
    now_ms: int,
) -> tuple[Ledger, StoredOrder, Refund]:
    """Reverse part or all (``amount_minor=None``) of an order, pro rata; raise :class:`RefundError` when
    the amount exceeds what remains."""
    amount = order.remaining_minor if amount_minor is None else amount_minor
    if amount <= 0 or amount > order.remaining_minor:
        raise RefundError(
            f"refund {amount} exceeds the {order.remaining_minor} that remains of order {order.order_id!r}"
            if amount > 0
            else "a refund must be more than zero",
            order.remaining_minor,
        )
    refunded = order.refunded_minor + amount
    qualifying_back = _pro_rata(order.qualifying_minor, refunded, order.total_minor) - _pro_rata(
        order.qualifying_minor, order.refunded_minor, order.total_minor
    )
    points_back = _pro_rata(order.points, refunded, order.total_minor) - _pro_rata(
        order.points, order.refunded_minor, order.total_minor
    )
    shrunk = msgspec.structs.replace(
        ledger,
        lifetime_minor=ledger.lifetime_minor - amount,
        history=tuple(_less(f, order.order_id, amount, qualifying_back) for f in ledger.history),
        lots=tuple(_take_points(lot, order.order_id, points_back) for lot in ledger.lots),
    )
    reverted = (
        refunded == order.total_minor and order.tier_after != order.tier_before and ledger.tier == order.tier_after
    )
    if reverted:
        reached = tier_for(window.qualifying(shrunk, program, now_ms), program, exponent)
        shrunk = msgspec.structs.replace(
            shrunk, tier=higher(program, order.tier_before, reached.name if reached else None), tier_since_ms=now_ms
        )
    outcome = Refund(
        refund_id=refund_id,
        amount_minor=amount,
        qualifying_minor=qualifying_back,
        points=points_back,
        tier_reverted=reverted,
    )
    updated = msgspec.structs.replace(order, refunded_minor=refunded, refunds=(*order.refunds, outcome))
    return shrunk, updated, outcome


def _pro_rata(whole: int, part: int, of: int) -> int:
    return whole * part // of if of else whole


def _less(fact: Fact, order_id: str, amount: int, qualifying: int) -> Fact:
    if fact.order_id != order_id:
        return fact
    return msgspec.structs.replace(
        fact, net_minor=fact.net_minor - amount, qualifying_minor=fact.qualifying_minor - qualifying
    )


def _take_points(lot: Lot, order_id: str, points: int) -> Lot:
    if lot.order_id != order_id:
        return lot
    return msgspec.structs.replace(lot, earned=lot.earned - points, remaining=max(0, lot.remaining - points))


def points_balance(ledger: Ledger, now_ms: int) -> tuple[int, int]:
    """(spendable, pending) points: unexpired lots past / within their return window."""
    live = [lot for lot in ledger.lots if lot.expires_at_ms > now_ms]
    spendable = sum(lot.remaining for lot in live if lot.spendable_at_ms <= now_ms)
    return spendable, sum(lot.remaining for lot in live if lot.spendable_at_ms > now_ms)


def next_expiry(ledger: Ledger, now_ms: int) -> tuple[int, int] | None:
    """(points, epoch ms) of the soonest-expiring live lot, if any points are live."""
    live = sorted(
        (lot.expires_at_ms, lot.remaining) for lot in ledger.lots if lot.expires_at_ms > now_ms and lot.remaining
    )
    if not live:
        return None
    first = live[0][0]
    return sum(points for expires, points in live if expires == first), first


def add_engagement(
    ledger: Ledger, kind: str, program: LoyaltyProgram, from_browser: bool, now_ms: int
) -> tuple[Ledger, float]:
    """Move the engagement score by the kind's weight. Events a browser sent move it, in a UTC day, by at most the
    daily cap either way: ``engagement_browser_today`` (their net change that day) stays within ±cap, so no batch of
    browser events, however large, moves the score further. Returns the new ledger and the change applied."""
    weight = program.engagement.weights.get(kind, 0.0)
    day = window.day_of(now_ms).isoformat()
    today = ledger.engagement_browser_today if ledger.engagement_day == day else 0.0
    if from_browser:
        cap = program.engagement.browser_daily_cap
        weight = max(-cap - today, min(weight, cap - today))
        today += weight
    changed = msgspec.structs.replace(
        ledger, engagement=ledger.engagement + weight, engagement_day=day, engagement_browser_today=today
    )
    return changed, weight


def abandon_cart(ledger: Ledger, program: LoyaltyProgram, now_ms: int) -> Ledger | None:
    """The ledger after the ``cart_abandoned`` weight, when the cart was last touched at least
    ``cart_abandoned_hours`` ago with no order since; ``None`` when it is not (or no longer) due. Counted
    once per abandoned cart."""
    hours = program.engagement.cart_abandoned_hours
    if not ledger.cart_touched_ms or now_ms - ledger.cart_touched_ms < hours * 3_600_000:
        return None
    weight = program.engagement.weights.get("cart_abandoned", 0.0)
    return msgspec.structs.replace(ledger, engagement=ledger.engagement + weight, cart_touched_ms=0)


def add_months(epoch_ms: int, months: int) -> int:
    """The same moment ``months`` calendar months later (day clamped to the month's end)."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return int(moment.replace(year=year, month=month, day=day).timestamp() * 1000)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")
