"""Cart-page nudges: "Spend $500.00 more to reach Bronze", with items that close the gap.

Shown to an identified customer below the top tier while ``0 < remaining ≤ nudge_window_pct`` of the next
threshold, where ``remaining = threshold − (qualifying spend + cart subtotal)``; gone once the cart crosses
it. The upgrade itself happens only when an order completes.
"""

from __future__ import annotations

import bisect

from loyalty_nudges.ledger import Ledger, next_tier_gap, qualifying_spend
from personalize import money
from personalize.pages.compose import PageState
from personalize.pages.types import Nudge, RecommendedItem, recommended

GAP_FILLERS = 4
_PRICE_HEADROOM = 1.5
"""Gap-fillers cost at least the gap and at most this multiple of it ("at or just above")."""
_CANDIDATES = 300


def cart_minor(state: PageState) -> int:
    """The cart's subtotal at catalog prices (the page's own price for items the catalog lacks)."""
    total = 0
    currency = state.runtime.settings.loyalty.currency
    for line in state.request.page.cart:
        item = state.catalog.get(line.item_id)
        unit = item.price if item else (money.minor_units(line.price, currency, "price") if line.price else 0)
        total += unit * line.quantity
    return total


def next_tier_nudge(state: PageState, ledger: Ledger | None) -> list[Nudge]:
    """The next-tier nudge of a cart page, or none."""
    program = state.runtime.settings.loyalty
    exponent = money.exponent(program.currency)
    customer = ledger or Ledger(customer_id=state.customer_id or "")
    gap = next_tier_gap(
        qualifying_spend(customer, program, state.now), cart_minor(state), customer.tier, program, exponent
    )
    if gap is None:
        return []
    tier, remaining = gap
    text = f"Spend {money.format_amount(remaining, program.currency)} more to reach {tier.title}"
    return [
        Nudge(
            kind="next_tier",
            tier=tier.name,
            remaining=money.to_major(remaining, program.currency),
            currency=program.currency,
            text=text,
            items=_gap_fillers(state, remaining),
        )
    ]


def _gap_fillers(state: PageState, remaining: int) -> list[RecommendedItem]:
    """In-stock items priced at or just above the gap, the visitor's favourites first."""
    catalog = state.catalog
    start = bisect.bisect_left(catalog.by_price, (remaining, ""))
    ceiling = remaining * _PRICE_HEADROOM
    found = [item_id for price, item_id in catalog.by_price[start : start + _CANDIDATES] if price <= ceiling]
    eligible = [catalog.items[i] for i in found if i not in state.blocked]
    ranked = sorted(eligible, key=lambda item: (-state.affinity(item), item.price, item.item_id))[:GAP_FILLERS]
    currency = state.runtime.settings.currency
    return [recommended(item, state.affinity(item), "gap_filler", currency) for item in ranked]
