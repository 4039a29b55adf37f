"""Deterministic assignment of a subject to a banner's holdout or variant.

The bucket is the first 8 bytes (big-endian) of SHA-256 over ``"{banner_id}:{subject}"`` as an integer,
mod 10,000. A subject is held out when its bucket is below ``holdout_pct × 100``. The variant comes from a
second, independent bucket over ``"{banner_id}:{subject}:variant"`` laid over the cumulative weights, so
holdout and variant do not correlate. Same banner and subject give the same arm on every call, in every
process, with nothing stored.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from itertools import accumulate

BUCKETS = 10_000


def bucket(banner_id: str, subject: str, salt: str = "") -> int:
    """The subject's bucket in ``[0, BUCKETS)`` for this banner.

    Args:
        banner_id: The banner being assigned.
        subject: The session or customer id.
        salt: Appended to the hashed key to draw an independent bucket (``":variant"``).
    """
    digest = hashlib.sha256(f"{banner_id}:{subject}{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def holdout_cut(holdout_pct: float) -> int:
    """The bucket below which a subject is held out, for a percentage in ``[0, 100]``."""
    return round(holdout_pct * BUCKETS / 100)


def is_held_out(banner_id: str, subject: str, cut: int) -> bool:
    """Whether the subject falls in the banner's holdout (``cut`` from :func:`holdout_cut`)."""
    return cut > 0 and bucket(banner_id, subject) < cut


def cumulative_weights(weights: tuple[float, ...]) -> tuple[float, ...]:
    """Running totals of the variant weights, as :func:`variant_index` expects them."""
    return tuple(accumulate(weights))


def variant_index(banner_id: str, subject: str, cumulative: tuple[float, ...]) -> int:
    """The index of the subject's variant given the cumulative weights (0 when there is at most one)."""
    if len(cumulative) <= 1:
        return 0
    point = bucket(banner_id, subject, ":variant") * cumulative[-1] / BUCKETS
    return min(bisect_right(cumulative, point), len(cumulative) - 1)
