"""The engagement score at the edge: browser events move it (capped per day), and carts left alone lower it."""

from __future__ import annotations

import msgspec

from loyalty_nudges import ledger as rules
from loyalty_nudges.ledger import Ledger, StoredOrder
from personalize.runtime import Runtime
from personalize.store.loyalty_protocols import LedgerChange


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
