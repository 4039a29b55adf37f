"""Coupon codes and their rules: generation, normalisation, audiences, redemption, birthdays.

Codes are drawn from a CSPRNG over :data:`ALPHABET` — 30 symbols with no 0/O, 1/I/L or U, so a code read
aloud or typed from paper survives — ``length`` of them after an optional readable prefix. Each symbol
carries log2(30) ≈ 4.91 bits: the default 12 symbols are ≈ 58.9 bits, so guessing one live code among a
million takes about 2^39 tries. Codes are compared in normal form (upper case, no spaces or hyphens).

Exceptions::

    LoyaltyError (program.py)
    └── CouponError        a campaign that cannot be issued (names the field)
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

import msgspec

from loyalty_nudges.program import LoyaltyError

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
BITS_PER_SYMBOL = math.log2(len(ALPHABET))
MIN_LENGTH = 10
YEAR_MS = 365 * 86_400_000
USE_MARK = "~"
"""Joins a shared code and a customer id into the key of that customer's use; codes never contain it."""

Benefit = Literal["discount", "free_shipping", "item"]
Refusal = Literal["unknown", "used", "expired", "not_yet_valid", "not_yours"]


class CouponError(LoyaltyError):
    """A campaign or code request that cannot be honoured."""


class Audience(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who gets a code; every given condition must hold. Empty: nobody by rule (use ``customer_ids``)."""

    tiers: tuple[str, ...] = ()
    min_score: float | None = None
    """Engagement score at least this."""
    max_score: float | None = None
    """Engagement score below this."""
    segments: tuple[str, ...] = ()
    customer_ids: tuple[str, ...] = ()

    def matches(self, customer_id: str, tier: str | None, score: float, segment: str | None) -> bool:
        """Whether a customer with this standing belongs to the audience."""
        if self.customer_ids and customer_id in self.customer_ids:
            return True
        rules = [
            not self.tiers or tier in self.tiers,
            self.min_score is None or score >= self.min_score,
            self.max_score is None or score < self.max_score,
            not self.segments or segment in self.segments,
        ]
        has_rule = bool(self.tiers or self.segments or self.min_score is not None or self.max_score is not None)
        return has_rule and all(rules)


class Coupon(msgspec.Struct, frozen=True, kw_only=True):
    """One single-use code (stored forever, so a code is never issued twice), or a shared code's template."""

    code: str
    campaign_id: str
    discount_pct: float
    discount_minor: int
    valid_from_ms: int
    expires_at_ms: int
    customer_id: str | None = None
    used_by_order: str | None = None
    used_at_ms: int | None = None
    shared: bool = False
    """A code the shop chose (``FBWELCOME10``) that every customer may use once; each use is a coupon of its
    own under :func:`use_of`'s code."""
    benefit: Benefit = "discount"
    """What the code gives: the discount above, free shipping, or the reward's item (an experience, a gift)."""
    voided: bool = False
    """Withdrawn before use (its redemption was cancelled); refused like a used code."""


class Campaign(msgspec.Struct, frozen=True, kw_only=True):
    """A batch of codes with one discount, validity window and audience."""

    campaign_id: str
    name: str
    discount_pct: float
    discount_minor: int
    prefix: str
    length: int
    valid_from_ms: int
    expires_at_ms: int
    audience: Audience
    unassigned: int = 0
    """Codes issued to nobody in particular (e.g. for a newsletter)."""


def normalize(code: str) -> str:
    """Upper case without spaces or hyphens: ``vip20-k7m2 …`` → ``VIP20K7M2…``."""
    return "".join(code.split()).replace("-", "").upper()


def generate_code(length: int = 12, prefix: str = "", choice: Callable[[str], str] = secrets.choice) -> str:
    """A fresh code in normal form: ``prefix`` then ``length`` CSPRNG symbols of :data:`ALPHABET`."""
    if length < MIN_LENGTH:
        raise CouponError(f"length {length} is below the minimum of {MIN_LENGTH} symbols")
    return normalize(prefix) + "".join(choice(ALPHABET) for _ in range(length))


CHOSEN_PATTERN = r"^[ -]*(?:[A-Za-z0-9][ -]*){4,32}$"
"""What :func:`check_chosen` accepts, as a pattern for the wire type (and the API's schema)."""
CHOSEN_RULE = "must be 4 to 32 letters and digits (hyphens and spaces are ignored)"


def check_chosen(code: str) -> str:
    """A shared code as the shop wrote it, in normal form: 4 to 32 letters and digits."""
    normal = normalize(code)
    if not (4 <= len(normal) <= 32 and normal.isascii() and normal.isalnum()):
        raise CouponError(f"code {code!r} {CHOSEN_RULE}")
    return normal


def use_of(shared: Coupon, customer_id: str) -> Coupon:
    """One customer's use of a shared code: a single-use coupon of that customer, stored under the shared code,
    :data:`USE_MARK` and the customer id (codes themselves never hold the mark; callers refuse one that does)."""
    code = f"{shared.code}{USE_MARK}{customer_id}"
    return msgspec.structs.replace(shared, code=code, customer_id=customer_id, shared=False)


def entropy_bits(length: int) -> float:
    """Bits of randomness in a code of ``length`` random symbols."""
    return length * BITS_PER_SYMBOL


def redeem(coupon: Coupon | None, customer_id: str, order_id: str, now_ms: int) -> tuple[Coupon | None, Refusal | None]:
    """The coupon after redeeming it for ``order_id``, or why not. Redeeming again for the same order is
    the same success (idempotent); for another order it is ``used``."""
    if coupon is None:
        return None, "unknown"
    if coupon.used_by_order is not None:
        return (coupon, None) if coupon.used_by_order == order_id else (None, "used")
    if coupon.voided:
        return None, "used"
    if coupon.customer_id is not None and coupon.customer_id != customer_id:
        return None, "not_yours"
    if now_ms < coupon.valid_from_ms:
        return None, "not_yet_valid"
    if now_ms >= coupon.expires_at_ms:
        return None, "expired"
    return msgspec.structs.replace(coupon, used_by_order=order_id, used_at_ms=now_ms), None


def birthday_due(birthday: str, last_issued_ms: int | None, now_ms: int) -> bool:
    """Whether a birthday coupon is due today: the month and day (``MM-DD``) match today's (29 February
    falls on 28 February in other years) and none was issued in the last 365 days."""
    month, day = (int(part) for part in birthday.split("-"))
    today = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    if (month, day) == (2, 29) and not leap:
        day = 28
    recent = last_issued_ms is not None and now_ms - last_issued_ms < YEAR_MS
    return (today.month, today.day) == (month, day) and not recent
