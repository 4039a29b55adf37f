"""The loyalty side's store interface: one transaction over a customer's ledger and what a change reads with it,
what it writes, and the outbox it appends to. ``memory`` and ``redis`` implement it; ``tests/contract`` runs the
same tests against both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import msgspec

from loyalty_nudges.coupons import Coupon
from loyalty_nudges.experiment_sums import Sums, UnitRecord
from loyalty_nudges.ledger import Ledger, StoredOrder
from loyalty_nudges.rewards import Redemption


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """A loyalty change worth telling someone about, as the outbox keeps it (``id`` is given by the store)."""

    kind: str
    """``tier_changed``, ``points_earned``, ``points_expiring``, ``points_expired``, ``reward_redeemed``,
    ``redemption_cancelled``, ``coupon_issued``, ``birthday_coupon_issued``."""
    customer_id: str
    at_ms: int
    data: dict[str, Any] = msgspec.field(default_factory=dict)
    id: str = ""
    """``<ms>-<sequence>``, increasing in the order the changes happened; unique."""


class Wants(msgspec.Struct, frozen=True, kw_only=True):
    """What a loyalty transaction reads and guards beside the customer's ledger."""

    order_id: str | None = None
    redemption_id: str | None = None
    stock_of: str | None = None
    """A reward whose units taken so far are read."""
    codes: tuple[str, ...] = ()
    """Coupon codes read (a code about to be issued must be free; one to void must be there)."""
    marks: tuple[str, ...] = ()
    """Once-marks read: what was done under a name (an action id, a challenge's week), as its stored receipt."""
    units: tuple[tuple[str, str], ...] = ()
    """Experiment units read, as ``(experiment id, unit)``: an order attributed to one moves its totals."""


class Reads(msgspec.Struct, frozen=True, kw_only=True):
    """What a loyalty transaction found, all read under the guard its writes are made under."""

    ledger: Ledger | None
    order: StoredOrder | None = None
    redemption: Redemption | None = None
    stock_taken: int = 0
    coupons: dict[str, Coupon | None] = msgspec.field(default_factory=dict)
    marks: dict[str, bytes | None] = msgspec.field(default_factory=dict)
    units: dict[tuple[str, str], UnitRecord | None] = msgspec.field(default_factory=dict)


class LedgerChange(msgspec.Struct, frozen=True, kw_only=True):
    """What a ledger transaction writes: the new ledger and/or order (``None`` = leave as is), more orders of the
    same customer (a history imported at once), counter deltas for the totals (``customers``, ``orders``,
    ``lifetime_minor``, ``tier:<name>``), a redemption, units of the read reward's stock taken (negative: given
    back), coupons written whole (issued or voided), notices appended to the outbox, once-marks, experiment units
    written whole with what their arms' sums move by, and the caller's result."""

    ledger: Ledger | None = None
    order: StoredOrder | None = None
    orders: tuple[StoredOrder, ...] = ()
    totals: dict[str, int] = msgspec.field(default_factory=dict)
    redemption: Redemption | None = None
    stock_delta: int = 0
    coupons: tuple[Coupon, ...] = ()
    notices: tuple[Notice, ...] = ()
    marks: dict[str, bytes] = msgspec.field(default_factory=dict)
    """Once-marks set, each with its receipt (kept for good: they are what makes a retry a replay)."""
    units: dict[tuple[str, str], UnitRecord] = msgspec.field(default_factory=dict)
    """Experiment units, by ``(experiment id, unit)``, as they are after the change."""
    arm_sums: dict[tuple[str, str], Sums] = msgspec.field(default_factory=dict)
    """What the sums of each ``(experiment id, arm)`` move by."""
    result: Any = None


Decide = Callable[[Ledger | None, StoredOrder | None], LedgerChange]
"""Pure: given the current ledger and order, what to write. May run more than once (optimistic retries)."""
Act = Callable[[Reads], LedgerChange]
"""Pure: given what :meth:`LedgerStore.act` read, what to write. May run more than once."""


class LedgerStore(Protocol):
    """Customers' loyalty ledgers, applied orders (the idempotency record), redemptions, rewards' stock, running
    totals and the outbox of loyalty notices."""

    async def act(self, customer_id: str, wants: Wants, decide: Act) -> LedgerChange:
        """Atomically read the customer's ledger and what ``wants`` names, call ``decide`` and write what it
        returns — ledger, orders, redemption, stock, coupons, totals and notices in one step; concurrent
        transactions touching any of the same records serialise."""
        ...

    async def transact(self, customer_id: str, order_id: str | None, decide: Decide) -> LedgerChange:
        """:meth:`act` on the customer's ledger and one order."""
        ...

    async def ledger(self, customer_id: str) -> Ledger | None:
        """One customer's ledger."""
        ...

    async def order(self, order_id: str) -> StoredOrder | None:
        """One applied order."""
        ...

    async def redemption(self, redemption_id: str) -> Redemption | None:
        """One redemption."""
        ...

    async def stock_taken(self, reward_id: str) -> int:
        """Units of a reward redeemed and not cancelled."""
        ...

    async def totals(self) -> dict[str, int]:
        """The running totals."""
        ...

    def ledgers(self) -> AsyncIterator[Ledger]:
        """Every customer's ledger (for segmentation and exports)."""
        ...

    async def notices(self, after: str | None, limit: int) -> list[Notice]:
        """Outbox notices with an id above ``after`` (all kept ones for ``None``), oldest first, at most ``limit``."""
        ...
