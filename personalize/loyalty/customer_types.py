"""The wire types of customer records: the record stored and answered, server-reported actions, and the export of
everything held about a customer (``/v1/customers/{customer_id}``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from loyalty_nudges.customers import check_birthday, check_email
from personalize.clock import WireTime, check_time
from personalize.loyalty.types import CouponOut, Id, LoyaltyState


class CustomerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``PUT /v1/customers/{customer_id}``: the whole record (a field left out is cleared)."""

    first_name: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    email: Annotated[str, Meta(min_length=3, max_length=254)] | None = None
    birthday: Annotated[str, Meta(pattern=r"^[0-9]{2}-[0-9]{2}$")] | None = None
    """Month and day only, ``MM-DD``."""
    country: Annotated[str, Meta(pattern=r"^[A-Z]{2}$")] | None = None
    locale: Annotated[str, Meta(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")] | None = None
    email_consent: bool = False
    email_consent_at: WireTime | None = None
    """When the consent (or its withdrawal) was given; default: now, when it changes."""
    joined_at: WireTime | None = None
    """When the customer joined the shop; default: when the record was first stored."""

    def __post_init__(self) -> None:
        if self.email is not None:
            check_email(self.email)
        if self.birthday is not None:
            check_birthday(self.birthday)
        check_time(self.email_consent_at, "email_consent_at")
        check_time(self.joined_at, "joined_at")


class CustomerOut(msgspec.Struct, kw_only=True):
    """A customer's record as stored; ``created`` on the first ``PUT``, with the welcome bonus it gave."""

    customer_id: str
    first_name: str | None
    email: str | None
    birthday: str | None
    country: str | None
    locale: str | None
    email_consent: bool
    email_consent_at: datetime | None
    joined_at: datetime
    updated_at: datetime
    created: bool
    welcome_points: int
    points: int
    """The spendable balance."""


class ActionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /v1/customers/{customer_id}/actions``: idempotent on ``action_id``."""

    action_id: Id
    action: Annotated[str, Meta(min_length=1, max_length=64)]
    """A name of ``loyalty.earning.actions``."""


class ActionOut(msgspec.Struct, kw_only=True):
    """What an action earned; a replay of its ``action_id`` answers the same with ``duplicate: true``."""

    action_id: str
    action: str
    customer_id: str
    points_earned: int
    points: int
    coupon: CouponOut | None
    duplicate: bool = False


class OrderLineOut(msgspec.Struct, kw_only=True):
    """An order line as exported."""

    item_id: str
    quantity: int
    price: float
    on_promotion: bool


class OrderOut(msgspec.Struct, kw_only=True):
    """An applied order as exported: what it counted and what refunds took back."""

    order_id: str
    completed_at: datetime
    total: float
    refunded: float
    qualifying_amount: float
    points: int
    coupon_code: str | None
    items: list[OrderLineOut]


class CustomerExport(msgspec.Struct, kw_only=True):
    """``GET /v1/customers/{customer_id}/export``: everything held about a customer, in one document."""

    customer_id: str
    record: CustomerOut | None
    loyalty: LoyaltyState | None
    orders: list[OrderOut]
    coupons: list[CouponOut]
    profile: dict[str, float]
    """The long-term interest scores of the customer (``brand:…``, ``category:…``), decayed to their epoch."""
    exported_at: datetime


class Erased(msgspec.Struct, kw_only=True):
    """What ``DELETE /v1/customers/{customer_id}`` removed; the ledger (orders, points, tier) stays for accounts."""

    customer_id: str
    record_removed: bool
    sessions_unlinked: int
    coupons_removed: int
