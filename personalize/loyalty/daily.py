"""The loyalty day: tier evaluation and reactivation, then points expiry, expiry notices and birthday codes, for every
customer with a ledger — one store step per customer that has something due, with its notices, so a change and its
notice land together or not at all.

Every part is idempotent per customer and period (``loyalty_nudges.evaluation``, ``loyalty_nudges.upkeep``): running
the day twice changes nothing the second time. ``personalize loyalty evaluate`` and ``personalize loyalty jobs`` run
it from the command line; in the server, :func:`run_daily` runs it once a day, in one process of a shared store (a
store lease named after the day).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable

import msgspec

from loyalty_nudges.coupons import Coupon
from loyalty_nudges.evaluation import TierChange, evaluate, reactivate
from loyalty_nudges.ledger import DAY_MS, Ledger, points_balance
from loyalty_nudges.upkeep import birthday_due, expire_points, expiry_notices
from loyalty_nudges.window import day_of
from personalize.clock import now_ms
from personalize.loyalty.coupons import single_use
from personalize.loyalty.orders import tier_moves
from personalize.runtime import Runtime
from personalize.settings import Settings
from personalize.store.loyalty_protocols import LedgerChange, Notice, Reads, Wants
from personalize.store.protocols import StoreError

log = logging.getLogger("personalize.loyalty")

CHECK_EVERY_SECONDS = 3600.0
"""How often a server process looks whether today's run is still to do."""
LEASE_SECONDS = 2 * 86_400.0
"""A day's lease outlives the day, so no process runs that day again."""
YIELD_EVERY = 100


class DayRun(msgspec.Struct, kw_only=True):
    """What one run did (``personalize loyalty …`` prints it)."""

    as_of: str
    customers: int = 0
    """Customers with a ledger looked at."""
    changed: int = 0
    """Customers whose ledger the run changed."""
    counts: dict[str, int] = msgspec.field(default_factory=dict)
    """Per outcome: ``downgraded``, ``reactivated``, ``points_expired``, ``points_expiring``, ``birthday_coupons``."""


class _Day(msgspec.Struct, frozen=True, kw_only=True):
    ledger: Ledger
    notices: tuple[Notice, ...]
    counts: dict[str, int]
    coupon: Coupon | None


def day_for(
    settings: Settings, ledger: Ledger, now_ms: int, coupon: Coupon | None, *, tiers: bool, upkeep: bool
) -> _Day:
    """What the day changes for one customer (pure): the new ledger, its notices, the counts, the birthday code."""
    program, exponent, customer_id = settings.loyalty, settings.currency_exponent, ledger.customer_id
    notices: list[Notice] = []
    counts: Counter[str] = Counter()
    current = ledger

    def notice(kind: str, **data: object) -> None:
        notices.append(Notice(kind=kind, customer_id=customer_id, at_ms=now_ms, data=data))

    if tiers:
        for step in (reactivate, evaluate):
            current, change = step(current, program, exponent, now_ms)
            if change is not None:
                counts["reactivated" if change.reason == "reactivated" else "downgraded"] += 1
                notice("tier_changed", **_tier_data(change))
    issued = None
    if upkeep:
        current, expired = expire_points(current, now_ms)
        if expired:
            counts["points_expired"] += expired
            notice("points_expired", points=expired, balance=points_balance(current, now_ms)[0])
        current, expiring = expiry_notices(current, program, now_ms)
        for soon in expiring:
            counts["points_expiring"] += 1
            notice("points_expiring", points=soon.points, expires_at_ms=soon.expires_at_ms, days=soon.days)
        if coupon is not None and birthday_due(current, program, now_ms):
            issued = coupon
            current = msgspec.structs.replace(current, birthday_coupon_ms=now_ms)
            counts["birthday_coupons"] += 1
            notice(
                "birthday_coupon_issued", code=coupon.code, discount_pct=coupon.discount_pct,
                expires_at_ms=coupon.expires_at_ms,
            )  # fmt: skip
    return _Day(ledger=current, notices=tuple(notices), counts=dict(counts), coupon=issued)


def _tier_data(change: TierChange) -> dict[str, object]:
    data: dict[str, object] = {"tier_before": change.tier_before, "tier": change.tier_after, "reason": change.reason}
    if change.period:
        data["period"] = change.period
    return data


def birthday_coupon(settings: Settings, customer_id: str, now_ms: int) -> Coupon | None:
    """A fresh birthday code for the customer, when the program gives them."""
    rule = settings.loyalty.birthday
    if rule is None:
        return None
    return single_use(
        "birthday", customer_id, prefix="BD", valid_from_ms=now_ms,
        expires_at_ms=now_ms + rule.code_valid_days * DAY_MS, discount_pct=rule.percent_off,
    )  # fmt: skip


def _birthday_code(settings: Settings, ledger: Ledger, now_ms: int) -> Coupon | None:
    """A code drawn for a customer whose birthday code is due (the rest draw none)."""
    if not birthday_due(ledger, settings.loyalty, now_ms):
        return None
    return birthday_coupon(settings, ledger.customer_id, now_ms)


async def run_day(
    runtime: Runtime,
    as_of_ms: int,
    *,
    tiers: bool = True,
    upkeep: bool = True,
    progress: Callable[[int], None] | None = None,
) -> DayRun:
    """Run the loyalty day as of ``as_of_ms`` for every customer (see the module's docstring)."""
    settings = runtime.settings
    run = DayRun(as_of=day_of(as_of_ms).isoformat())
    totals: Counter[str] = Counter()
    async for seen in runtime.store.ledger.ledgers():
        run.customers += 1
        if progress is not None:
            progress(run.customers)
        if run.customers % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # the memory store never waits: let the server's requests in between
        wanted = _birthday_code(settings, seen, as_of_ms) if upkeep else None
        preview = day_for(settings, seen, as_of_ms, wanted, tiers=tiers, upkeep=upkeep)
        if preview.ledger == seen:
            continue  # nothing due: no write
        while True:  # a drawn code that collides with one ever issued is drawn again
            coupon = preview.coupon

            def decide(reads: Reads, coupon: Coupon | None = coupon) -> LedgerChange:
                if reads.ledger is None:
                    return LedgerChange(result=None)
                if coupon is not None and reads.coupons.get(coupon.code) is not None:
                    return LedgerChange(result="taken")
                day = day_for(settings, reads.ledger, as_of_ms, coupon, tiers=tiers, upkeep=upkeep)
                if day.ledger == reads.ledger:
                    return LedgerChange(result=None)
                return LedgerChange(
                    ledger=day.ledger,
                    coupons=(day.coupon,) if day.coupon else (),
                    notices=day.notices,
                    totals=tier_moves(reads.ledger.tier, day.ledger.tier),
                    result=day,
                )

            wants = Wants(codes=(coupon.code,) if coupon else ())
            change = await runtime.store.ledger.act(seen.customer_id, wants, decide)
            if change.result != "taken":
                break
            preview = msgspec.structs.replace(preview, coupon=_birthday_code(settings, seen, as_of_ms))
        if isinstance(change.result, _Day):
            run.changed += 1
            totals.update(change.result.counts)
    run.counts = dict(totals)
    log.info("loyalty day %s: %d customers, %d changed, %s", run.as_of, run.customers, run.changed, run.counts)
    return run


async def run_daily(runtime: Runtime) -> None:
    """The server's task: once a UTC day, in one process of the store (a lease named after the day), run the day."""
    while True:
        with contextlib.suppress(StoreError):
            now = now_ms()
            due = await runtime.store.lease(f"loyalty-day:{day_of(now).isoformat()}", LEASE_SECONDS)
            runtime.metrics.loyalty_day_checks.inc()
            if due:
                done = await run_day(runtime, now)
                runtime.metrics.loyalty_days.inc()
                for outcome, count in done.counts.items():
                    runtime.metrics.loyalty_changes.labels(outcome).inc(count)
        await asyncio.sleep(CHECK_EVERY_SECONDS)
