"""A customer's loyalty standing at one moment, computed once from the ledger and read by everything that shows it.

A page view computes it once (``personalize.pages.view``) and hands it to the customer summary, the banners (tier,
``{remaining}``) and the cart nudge; the loyalty routes turn it into :class:`~personalize.loyalty.types.LoyaltyState`.
The rules are ``loyalty_nudges``': what qualifies in the program's window on its tier basis (``window``), the one
next-tier rule (``tiers``), and what keeps the tier at the next evaluation (``evaluation.keep_tier``).
"""

from __future__ import annotations

import msgspec

from loyalty_nudges import ledger as rules
from loyalty_nudges import tiers, window
from loyalty_nudges.evaluation import KeepTier, keep_tier
from loyalty_nudges.ledger import Ledger
from loyalty_nudges.program import LoyaltyProgram, Tier
from personalize import money
from personalize.clock import utc
from personalize.loyalty.types import Expiry, KeepTierOut, LoyaltyState
from personalize.settings import Settings


class Standing(msgspec.Struct, frozen=True, kw_only=True):
    """Where a customer stands at ``now_ms``: tier, what qualifies in the window (spend, and on a points basis
    points), the next tier and what it still takes (without any cart), points, and the RFM segment; what keeps the
    tier is computed when asked (:meth:`keep_tier`). Money in minor units; ``qualifying`` and ``remaining`` in the
    tier basis' units (``remaining_minor`` is the spend that closes the gap)."""

    ledger: Ledger
    tier: Tier | None
    qualifying_minor: int
    qualifying: int
    next_tier: Tier | None
    remaining: int | None
    program: LoyaltyProgram
    exponent: int
    now_ms: int
    points: int
    pending_points: int
    next_expiry: tuple[int, int] | None
    segment: str | None

    @property
    def customer_id(self) -> str:
        return self.ledger.customer_id

    @property
    def remaining_minor(self) -> int | None:
        """The spend that reaches the next tier (none at the top)."""
        return None if self.remaining is None else self.spend_for(self.remaining)

    def keep_tier(self) -> KeepTier | None:
        """What keeps the tier at the next evaluation that would lower it (none when nothing would) — computed when
        asked, by the cart's nudge and the loyalty state, not on every page."""
        return keep_tier(self.ledger, self.program, self.exponent, self.now_ms)

    def spend_for(self, units: int) -> int:
        """The spend (minor units) that adds ``units`` on the program's tier basis."""
        return tiers.spend_for_units(units, self.program, self.exponent)

    @property
    def discount_pct(self) -> float:
        """The member discount of the tier (0 without one), always a float so that every answer encodes it alike."""
        return float(self.tier.discount_pct) if self.tier else 0.0


def standing_of(ledger: Ledger, program: LoyaltyProgram, exponent: int, now_ms: int, segment: str | None) -> Standing:
    """The standing of ``ledger`` at ``now_ms``."""
    qualifying = window.qualifying(ledger, program, now_ms)
    above = tiers.next_tier(program, ledger.tier)
    spendable, pending = rules.points_balance(ledger, now_ms)
    return Standing(
        ledger=ledger,
        tier=program.tier_named(ledger.tier),
        qualifying_minor=window.qualifying_spend(ledger, program, now_ms)
        if program.tier_basis == "points"
        else qualifying,
        qualifying=qualifying,
        next_tier=above,
        remaining=tiers.missing_for(above, qualifying, program, exponent) if above else None,
        program=program,
        exponent=exponent,
        now_ms=now_ms,
        points=spendable,
        pending_points=pending,
        next_expiry=rules.next_expiry(ledger, now_ms),
        segment=segment,
    )


def standing_for(settings: Settings, ledger: Ledger, now_ms: int, segment: str | None = None) -> Standing:
    """:func:`standing_of` with the settings' program and currency."""
    return standing_of(ledger, settings.loyalty, settings.currency_exponent, now_ms, segment)


def loyalty_state(standing: Standing, currency: str) -> LoyaltyState:
    """The loyalty state the API shows for a standing."""
    ledger = standing.ledger
    return LoyaltyState(
        customer_id=ledger.customer_id,
        tier=ledger.tier,
        discount_pct=standing.discount_pct,
        qualifying_spend=money.to_major(standing.qualifying_minor, currency),
        lifetime_spend=money.to_major(ledger.lifetime_minor, currency),
        points=standing.points,
        pending_points=standing.pending_points,
        engagement_score=round(ledger.engagement, 3),
        next_tier=standing.next_tier.name if standing.next_tier else None,
        remaining=money.to_major(standing.remaining_minor, currency) if standing.remaining_minor is not None else None,
        next_expiry=expiry_out(standing),
        segment=standing.segment,
        orders=len(ledger.history),
        tier_basis=standing.program.tier_basis,
        qualifying_points=standing.qualifying if standing.program.tier_basis == "points" else None,
        keep_tier=_keep_out(standing, currency),
    )


def expiry_out(standing: Standing) -> Expiry | None:
    """The soonest points to expire, as answers show them."""
    expiry = standing.next_expiry
    return Expiry(expiry[0], utc(expiry[1])) if expiry else None


def _keep_out(standing: Standing, currency: str) -> KeepTierOut | None:
    keep = standing.keep_tier()
    if keep is None:
        return None
    points = keep.missing if standing.program.tier_basis == "points" else None
    spend = money.to_major(standing.spend_for(keep.missing), currency)
    return KeepTierOut(tier=keep.tier, remaining=spend, points=points, by=keep.by)
