"""Rewards at the edge: the list a storefront shows, redemption (points spent, stock taken, a code issued, notices
told, in one store step) and its cancellation.

Each is one :meth:`~personalize.store.protocols.LedgerStore.act` over the customer's ledger, the redemption record
(the idempotency key), the reward's stock counter and the new code, so concurrent redemptions by one customer
serialise on the ledger and concurrent redemptions of a limited reward on its stock: no balance below zero, no
stock oversold, and one redemption id spends once however often it is posted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from loyalty_nudges import rewards as rules
from loyalty_nudges.coupons import Benefit, Coupon
from loyalty_nudges.ledger import points_balance
from loyalty_nudges.program import Reward
from loyalty_nudges.rewards import Redemption
from personalize import money
from personalize.clock import utc
from personalize.errors import Conflict, NotFound, Refused
from personalize.loyalty.coupons import coupon_out, single_use
from personalize.loyalty.types import RedemptionIn, RedemptionOut, RewardList, RewardOut
from personalize.runtime import Runtime
from personalize.store.loyalty_protocols import LedgerChange, Notice, Reads, Wants

CODE_PREFIX = "RW"


async def reward_list(runtime: Runtime, customer_id: str | None, now_ms: int) -> RewardList:
    """The rewards open today; for a signed customer only those of their tier, with what each still takes."""
    program = runtime.settings.loyalty
    ledger = await runtime.store.ledger.ledger(customer_id) if customer_id else None
    balance = points_balance(ledger, now_ms)[0] if ledger else 0
    tier = ledger.tier if ledger else None
    shown = []
    for reward in program.rewards:
        if not reward.available(now_ms) or (customer_id is not None and not reward.open_to(tier)):
            continue
        left = None
        if reward.stock is not None:
            left = max(0, reward.stock - await runtime.store.ledger.stock_taken(reward.id))
        shown.append(
            RewardOut(
                id=reward.id,
                title=reward.title,
                cost=reward.cost,
                kind=reward.kind,
                percent=reward.percent,
                amount=reward.amount,
                tiers=list(reward.tiers),
                available_until=_day_end(reward),
                left=left,
                affordable=balance >= reward.cost if customer_id else None,
                points_missing=max(0, reward.cost - balance) if customer_id else None,
            )
        )
    return RewardList(rewards=shown, points=balance if customer_id else None)


def _day_end(reward: Reward) -> datetime | None:
    until = reward.available_until
    return datetime(until.year, until.month, until.day, 23, 59, 59, tzinfo=UTC) if until else None


async def redeem(runtime: Runtime, customer_id: str, body: RedemptionIn, now_ms: int) -> RedemptionOut:
    """Spend the reward's points from the oldest spendable lots, take a unit of its stock and issue its single-use
    code, atomically; a replay of the redemption id answers the first redemption (``duplicate``), a redemption id
    of another customer or reward is a conflict, an unknown reward 422."""
    program = runtime.settings.loyalty
    reward = program.reward_named(body.reward_id)
    if reward is None:
        offered = ", ".join(r.id for r in program.rewards) or "none"
        raise Refused(
            f"reward_id {body.reward_id!r} is not a reward of the program (offered: {offered})",
            "reward_id",
            code="reward_unknown",
        )
    while True:  # a new code that collides with one ever issued (about 1 in 10^15) is drawn again
        coupon = _coupon(runtime, reward, customer_id, now_ms)
        wants = Wants(
            redemption_id=body.redemption_id,
            stock_of=reward.id if reward.stock is not None else None,
            codes=(coupon.code,),
        )

        def decide(reads: Reads, coupon: Coupon = coupon) -> LedgerChange:
            return _redeem_change(reads, customer_id, body.redemption_id, reward, coupon, now_ms)

        change = await runtime.store.ledger.act(customer_id, wants, decide)
        if change.result is not None:
            break
    redemption, duplicate = change.result
    return await _out(runtime, redemption, now_ms, duplicate=duplicate)


def _redeem_change(
    reads: Reads, customer_id: str, redemption_id: str, reward: Reward, coupon: Coupon, now_ms: int
) -> LedgerChange:
    """What one redemption writes (pure); ``result`` is ``None`` when the drawn code is taken."""
    done = reads.redemption
    if done is not None:
        if done.customer_id != customer_id or done.reward_id != reward.id:
            raise Conflict(
                f"redemption {redemption_id!r} was made by customer {done.customer_id!r} for reward "
                f"{done.reward_id!r}; a redemption id names one redemption",
                "redemption_id",
                code="redemption_conflict",
            )
        return LedgerChange(result=(done, True))
    if reads.coupons.get(coupon.code) is not None:
        return LedgerChange(result=None)
    ledger = reads.ledger
    if not reward.available(now_ms):
        raise rules.RedemptionError(f"reward {reward.id!r} cannot be redeemed today", "not_available")
    tier = ledger.tier if ledger else None
    if not reward.open_to(tier):
        raise rules.RedemptionError(
            f"reward {reward.id!r} is for the tiers {', '.join(reward.tiers)}; the customer's tier is {tier}", "tier"
        )
    if reward.stock is not None and reads.stock_taken >= reward.stock:
        raise rules.RedemptionError(
            f"reward {reward.id!r} is out of stock (all {reward.stock} redeemed)", "out_of_stock"
        )
    if ledger is None:
        raise rules.NotEnoughPoints(0, reward.cost, reward.id)
    spent, taken = rules.spend(ledger, reward, now_ms)
    redemption = Redemption(
        redemption_id=redemption_id,
        customer_id=customer_id,
        reward_id=reward.id,
        points=reward.cost,
        taken=taken,
        code=coupon.code,
        at_ms=now_ms,
    )
    balance = points_balance(spent, now_ms)[0]
    notices = (
        Notice(
            kind="reward_redeemed",
            customer_id=customer_id,
            at_ms=now_ms,
            data={"redemption_id": redemption_id, "reward_id": reward.id, "points": reward.cost, "balance": balance},
        ),
        Notice(
            kind="coupon_issued",
            customer_id=customer_id,
            at_ms=now_ms,
            data={"code": coupon.code, "reward_id": reward.id, "expires_at_ms": coupon.expires_at_ms},
        ),
    )
    return LedgerChange(
        ledger=spent,
        redemption=redemption,
        stock_delta=1 if reward.stock is not None else 0,
        coupons=(coupon,),
        notices=notices,
        result=(redemption, False),
    )


def _coupon(runtime: Runtime, reward: Reward, customer_id: str, now_ms: int) -> Coupon:
    amount = Decimal(str(reward.amount)) if reward.amount else None
    return single_use(
        f"reward:{reward.id}",
        customer_id,
        prefix=CODE_PREFIX,
        valid_from_ms=now_ms,
        expires_at_ms=rules.code_expiry(reward, now_ms),
        discount_pct=reward.percent or 0.0,
        discount_minor=money.minor_units(amount, runtime.settings.currency, "amount") if amount else 0,
        benefit=_BENEFITS[reward.kind],
    )


_BENEFITS: dict[str, Benefit] = {
    "percent_off": "discount",
    "amount_off": "discount",
    "free_shipping": "free_shipping",
    "item": "item",
}


async def cancel(runtime: Runtime, redemption_id: str, now_ms: int) -> RedemptionOut:
    """Return a redemption's points to the lots that paid them (with their own expiry), give back its unit of
    stock and void its code — refused (409) once the code has been used; cancelling again answers the same."""
    found = await runtime.store.ledger.redemption(redemption_id)
    if found is None:
        raise NotFound(f"no redemption {redemption_id!r}", "redemption_id")
    reward = runtime.settings.loyalty.reward_named(found.reward_id)
    limited = reward is not None and reward.stock is not None
    wants = Wants(redemption_id=redemption_id, stock_of=found.reward_id if limited else None, codes=(found.code,))

    def decide(reads: Reads) -> LedgerChange:
        done, ledger = reads.redemption, reads.ledger
        if done is None or ledger is None:
            raise NotFound(f"no redemption {redemption_id!r}", "redemption_id")
        if done.cancelled_at_ms is not None:
            return LedgerChange(result=(done, True))
        coupon = reads.coupons.get(done.code)
        if coupon is not None and coupon.used_by_order is not None:
            raise rules.RedemptionError(
                f"redemption {redemption_id!r}: its code was used by order {coupon.used_by_order!r}", "used"
            )
        cancelled = msgspec.structs.replace(done, cancelled_at_ms=now_ms)
        restored = rules.give_back(ledger, done)
        voided = (msgspec.structs.replace(coupon, voided=True),) if coupon is not None else ()
        notice = Notice(
            kind="redemption_cancelled",
            customer_id=done.customer_id,
            at_ms=now_ms,
            data={"redemption_id": redemption_id, "reward_id": done.reward_id, "points": done.points},
        )
        return LedgerChange(
            ledger=restored,
            redemption=cancelled,
            stock_delta=-1 if limited else 0,
            coupons=voided,
            notices=(notice,),
            result=(cancelled, False),
        )

    change = await runtime.store.ledger.act(found.customer_id, wants, decide)
    redemption, duplicate = change.result
    return await _out(runtime, redemption, now_ms, duplicate=duplicate)


async def _out(runtime: Runtime, redemption: Redemption, now_ms: int, *, duplicate: bool) -> RedemptionOut:
    ledger = await runtime.store.ledger.ledger(redemption.customer_id)
    coupon = await runtime.store.coupons.coupon(redemption.code)
    return RedemptionOut(
        redemption_id=redemption.redemption_id,
        customer_id=redemption.customer_id,
        reward_id=redemption.reward_id,
        points_spent=redemption.points,
        points=points_balance(ledger, now_ms)[0] if ledger else 0,
        coupon=coupon_out(coupon, runtime.settings.currency) if coupon else None,
        redeemed_at=utc(redemption.at_ms),
        cancelled_at=utc(redemption.cancelled_at_ms) if redemption.cancelled_at_ms is not None else None,
        duplicate=duplicate,
    )
