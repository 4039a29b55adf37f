"""The page view as banner conditions see it."""

from __future__ import annotations

import msgspec

from banners.rules import PageType


class BannerContext(msgspec.Struct, frozen=True, kw_only=True):
    """The page view as the conditions see it; built by the caller per request.

    Attributes:
        page_type: ``home``, ``category``, ``product``, ``cart``, ``checkout``, ``search`` or ``other``.
        landing_source: The session's landing source, lower case (``facebook``), or None.
        country: ISO 3166 alpha-2 (any case), or None.
        returning: Whether the visitor has been here before.
        has_ordered: Whether the visitor has completed an order.
        tier: The customer's tier name (``bronze``), or None for no tier or an anonymous visitor.
        segment: The customer's RFM segment name, or None.
        engagement: The customer's engagement score, or None (anonymous visitors have none).
        points: The customer's spendable points, or None (anonymous visitors have none).
        reward_within_reach: Whether the customer is a few points from a reward.
        cart_total_minor: The cart total in integer minor units.
        locale: A BCP 47 tag (``en-US``), or None.
        now_ms: The time of the request, epoch milliseconds.
        subject: The session or customer id that holdouts and variants are assigned on.
    """

    page_type: PageType
    landing_source: str | None = None
    country: str | None = None
    returning: bool = False
    has_ordered: bool = False
    tier: str | None = None
    segment: str | None = None
    engagement: float | None = None
    points: int | None = None
    reward_within_reach: bool = False
    cart_total_minor: int = 0
    locale: str | None = None
    now_ms: int
    subject: str
