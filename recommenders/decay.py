"""Exponential time decay without a decay pass.

A decayed sum ``s(now) = Σ wᵢ · 2^(-(now - tᵢ)/H)`` is kept as ``S = Σ wᵢ · 2^((tᵢ - E)/H)`` against an
epoch ``E``: adding an event is one increment (order-independent, so late events land correctly), and
reading multiplies by ``2^(-(now - E)/H)``. When the exponent grows past :data:`REBASE_AFTER` half-lives
the owner rescales its sums and moves ``E`` forward, keeping the numbers far from float overflow. This is
the same quantity as the lazy ``s = s·2^(-Δt/H) + w`` update of DOMAIN.md, computed in O(1) per event.
"""

from __future__ import annotations

REBASE_AFTER = 60.0
"""Half-lives between the epoch and an event after which the sums are rebased (2^60 is far from overflow)."""


def growth(ts_ms: float, epoch_ms: float, half_life_ms: float) -> float:
    """The factor an event at ``ts_ms`` is scaled by against ``epoch_ms``."""
    return float(2.0 ** ((ts_ms - epoch_ms) / half_life_ms))


def needs_rebase(ts_ms: float, epoch_ms: float, half_life_ms: float) -> bool:
    """Whether an event this far past the epoch should move the epoch first."""
    return (ts_ms - epoch_ms) / half_life_ms > REBASE_AFTER


def to_now(scaled: float, epoch_ms: float, now_ms: float, half_life_ms: float) -> float:
    """The decayed value at ``now_ms`` of a sum kept against ``epoch_ms``."""
    exponent = (now_ms - epoch_ms) / half_life_ms
    return 0.0 if exponent > 1000 else scaled * float(2.0**-exponent)
