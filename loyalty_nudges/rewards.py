"""Spending points on rewards and giving them back: pure rules over a customer's ledger.

The rewards themselves are part of the program (:class:`loyalty_nudges.program.Reward`). Redeeming spends
spendable points (never pending ones) from the lots that expire first — the oldest — and records which lots gave
how many, so that a cancelled redemption returns each point to its own lot with that lot's own expiry (DOMAIN.md,
rewards and earning).

Exceptions::

    LoyaltyError (program.py)
    └── RedemptionError             a redemption the rules refuse; ``reason`` says which rule
        └── NotEnoughPoints         the balance is below the cost (carries both)
"""

from __future__ import annotations

from typing import Literal

import msgspec

from loyalty_nudges.ledger import DAY_MS, Ledger, Lot, points_balance
from loyalty_nudges.program import LoyaltyError, LoyaltyProgram, Reward

Refusal = Literal["not_enough_points", "out_of_stock", "tier", "not_available", "cancelled", "used"]


class RedemptionError(LoyaltyError):
    """A redemption the rules refuse: ``reason`` is one of :data:`Refusal`."""

    def __init__(self, message: str, reason: Refusal) -> None:
        super().__init__(message)
        self.reason = reason


class NotEnoughPoints(RedemptionError):
    """The customer's spendable balance is below the reward's cost."""

    def __init__(self, balance: int, cost: int, reward_id: str) -> None:
        super().__init__(
            f"reward {reward_id!r} costs {cost} points and the spendable balance is {balance}", "not_enough_points"
        )
        self.balance, self.cost = balance, cost


class Redemption(msgspec.Struct, frozen=True, kw_only=True):
    """One redemption as stored: what it cost, which lots paid it, the code it issued."""

    redemption_id: str
    customer_id: str
    reward_id: str
    points: int
    taken: tuple[tuple[str, int], ...]
    """(lot id, points) for every lot the points came from, in spending order."""
    code: str
    at_ms: int
    cancelled_at_ms: int | None = None


def spend(ledger: Ledger, reward: Reward, now_ms: int) -> tuple[Ledger, tuple[tuple[str, int], ...]]:
    """The ledger after paying the reward's cost from the spendable lots that expire first, and which lots paid
    how much. Raises :class:`NotEnoughPoints` when the spendable balance is short."""
    balance, _ = points_balance(ledger, now_ms)
    if balance < reward.cost:
        raise NotEnoughPoints(balance, reward.cost, reward.id)
    order = sorted(
        (index for index, lot in enumerate(ledger.lots) if _spendable(lot, now_ms)),
        key=lambda index: (ledger.lots[index].expires_at_ms, index),
    )
    lots, due, taken = list(ledger.lots), reward.cost, []
    for index in order:
        if due == 0:
            break
        part = min(due, lots[index].remaining)
        lots[index] = msgspec.structs.replace(lots[index], remaining=lots[index].remaining - part)
        taken.append((lots[index].order_id, part))
        due -= part
    return msgspec.structs.replace(ledger, lots=tuple(lots)), tuple(taken)


def give_back(ledger: Ledger, redemption: Redemption) -> Ledger:
    """The ledger with a redemption's points back in the lots that paid them (each keeps its own expiry: points
    returned to a lot that has expired meanwhile are expired too). A lot reversed by a refund meanwhile takes
    back no more than it earned."""
    owed = dict[str, int]()
    for lot_id, points in redemption.taken:
        owed[lot_id] = owed.get(lot_id, 0) + points
    lots = []
    for lot in ledger.lots:
        back = min(owed.pop(lot.order_id, 0), lot.earned - lot.remaining)
        lots.append(msgspec.structs.replace(lot, remaining=lot.remaining + back) if back > 0 else lot)
    return msgspec.structs.replace(ledger, lots=tuple(lots))


def _spendable(lot: Lot, now_ms: int) -> bool:
    return lot.remaining > 0 and lot.spendable_at_ms <= now_ms < lot.expires_at_ms


def code_expiry(reward: Reward, now_ms: int) -> int:
    """When a code issued now for the reward stops being usable."""
    return now_ms + reward.code_valid_days * DAY_MS


def within_reach(program: LoyaltyProgram, tier: str | None, points: int, now_ms: int) -> tuple[Reward, int] | None:
    """The reward a customer is closest to affording, and the points still missing, when they miss at most
    ``nudge_window_pct`` of its cost: open to their tier, redeemable today, and without a stock limit (a page does
    not read stock, and a nudge must not promise what may be gone)."""
    best: tuple[Reward, int] | None = None
    for reward in program.rewards:
        missing = reward.cost - points
        if reward.stock is not None or not reward.open_to(tier) or not reward.available(now_ms):
            continue
        if 0 < missing <= reward.cost * program.nudge_window_pct / 100 and (best is None or missing < best[1]):
            best = (reward, missing)
    return best
