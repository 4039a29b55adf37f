"""Ledger properties (issue #8): any interleaving of orders, refunds and redeliveries is a sequential replay.

The property, on both store backends (``memory://`` and the session's real ``redis-server``). Hypothesis writes
a script — one to three customers, one to six orders (integer minor units, one to three lines, a discount) and
up to six refunds of those orders (partial, full, zero, or more than is left; several per order) — and every
operation is delivered one to three times with the same ids, all concurrently, in a random interleaving. A
refund delivered before its order is stored gets 404 (``refund_order`` looks the order up first); the client
retries it until it gets another answer, as a shop's webhook does. Every call goes through the real
``complete_order``/``refund_order`` and the real ``LedgerStore.transact`` (WATCH/MULTI on Redis). Then:

1. Each delivery ends applied, duplicate or refused (422), never 404, and each operation has one outcome: an
   order is applied by exactly one delivery and the others get its response with ``duplicate: true``; a
   refund is applied by one delivery (the others get ``duplicate: true`` and what it reversed) or refused by
   every delivery.
2. The run is serialisable per customer: the writes read exactly the ledger the previous write left, so they
   form one chain from "no ledger", and every duplicate or refusal read a ledger on that chain.
3. Replaying each operation once, sequentially, on a fresh store of the same backend — customer by customer,
   each customer's writes in chain order (so an order before its refunds), each refused refund at the point
   of the chain it saw — gives the same responses (refusals with the same message) and the same final state:
   every ledger from ``ledgers()``, every stored order (refunds and receipt included), ``totals()``, and the
   loyalty state (tier, points, spend) the API derives from each ledger.
4. Whatever the order: a ledger's lifetime spend is its orders less its applied refunds, an order's refunds
   add up to its refunded amount and never exceed its total, and the totals agree with the ledgers.

Why the replay follows the run's own order rather than one canonical order: the final state is not
order-independent. Whether a refund fits depends on the refunds applied before it (a cumulative cap); a tier
moves when an order crosses a threshold, and a full refund reverts an upgrade only while the customer is still
on the tier that order reached; receipts hold the loyalty state of their moment; history and points lots keep
application order. The order is read from the store's data (what each write read), not from task timing, so
the check does not depend on when tasks happened to resume.

How interleavings arise: Hypothesis permutes the deliveries and draws, per delivery, how many times its task
yields to the event loop before calling and how many times the starter yields after starting it. On Redis the
calls also interleave at every network round trip, so transactions on one customer overlap and WATCH retries
really happen (``--hypothesis-show-statistics`` counts the examples with retries). The memory backend runs a
transaction between two awaits, so there the interleaving is the order in which deliveries start.

The async code runs under ``anyio.run`` inside each example (not ``pytest.mark.anyio``): a fresh event loop and
fresh stores per example, and no function-scoped fixture shared across examples.
"""

from __future__ import annotations

import contextvars
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import anyio
import anyio.lowlevel
import msgspec
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from loyalty_nudges.ledger import DAY_MS, Ledger, StoredOrder
from loyalty_nudges.program import LoyaltyError, LoyaltyProgram
from personalize.errors import ServiceError, status_of
from personalize.loyalty.orders import complete_order, refund_order
from personalize.loyalty.standing import loyalty_state, standing_for
from personalize.loyalty.types import LoyaltyState, OrderIn, OrderLineIn, OrderResult, RefundIn, RefundResult
from personalize.runtime import Runtime
from personalize.store import open_store, tracking_config
from personalize.store.loyalty_protocols import Act, Decide, LedgerChange, LedgerStore, Reads, Wants
from personalize.store.protocols import Store
from tests.conftest import RedisServer, make_settings

NOW_MS = 1_775_001_600_000  # 2026-04-01T00:00Z: fixed, so tier dates and points expiry replay identically
CUSTOMERS = ("c1", "c2", "c3")
RETRY_SECONDS = 10.0
TIERS = tuple(tier.name for tier in LoyaltyProgram().tiers)
BACKENDS = [pytest.param("memory"), pytest.param("redis", marks=pytest.mark.redis)]


@dataclass(frozen=True)
class RefundOp:
    """A refund of ``order_id`` as the shop sends it."""

    order_id: str
    refund: RefundIn


Op = OrderIn | RefundOp


@dataclass(frozen=True)
class Script:
    """Logical operations, and the deliveries (indexes into ``ops``, repeated for redeliveries) in start order."""

    ops: tuple[Op, ...]
    deliveries: tuple[int, ...]
    yields_before: tuple[int, ...]
    yields_after: tuple[int, ...]

    def __str__(self) -> str:
        """The script in a few lines, noted on failure (this pytest/Hypothesis pairing prints arguments blank)."""
        said = []
        for n, op in enumerate(self.ops):
            if isinstance(op, OrderIn):
                lines = ", ".join(f"{line.quantity} × {line.price}" for line in op.items)
                said.append(f"op {n}: order {op.order_id} of {op.customer_id}, total {op.total} ({lines})")
            else:
                amount = "the rest" if op.refund.amount is None else op.refund.amount
                said.append(f"op {n}: refund {op.refund.refund_id} of {op.order_id}, {amount}")
        said.append(f"deliveries (ops in start order): {list(self.deliveries)}")
        said.append(f"yields before each: {list(self.yields_before)}, after each start: {list(self.yields_after)}")
        return "\n".join(said)

    def customer_of(self, index: int) -> str:
        op = self.ops[index]
        if isinstance(op, OrderIn):
            return op.customer_id
        return next(o.customer_id for o in self.ops if isinstance(o, OrderIn) and o.order_id == op.order_id)


class Refusal(msgspec.Struct, frozen=True):
    """A refused delivery as the client sees it."""

    status: int
    code: str
    message: str


Outcome = OrderResult | RefundResult | Refusal


def _dollars(minor: int) -> Decimal:
    return Decimal(minor).scaleb(-2)


@st.composite
def orders(draw: st.DrawFn, index: int, customers: tuple[str, ...]) -> OrderIn:
    """An order with small and large lines (USD, minor units), so a few orders cross the demo tiers' thresholds
    ($4,000 / $10,000 / $25,000)."""
    unit = st.one_of(st.integers(1, 9_999), st.integers(50_000, 250_000), st.integers(250_000, 700_000))
    lines = draw(st.lists(st.tuples(st.integers(1, 2), unit, st.booleans()), min_size=1, max_size=3))
    lines_minor = sum(quantity * unit for quantity, unit, _ in lines)
    total = lines_minor - draw(st.integers(0, lines_minor // 10))
    return OrderIn(
        order_id=f"o{index}",
        customer_id=draw(st.sampled_from(customers)),
        items=[
            OrderLineIn(item_id=f"sku-{n}", quantity=q, price=_dollars(unit), on_promotion=promo)
            for n, (q, unit, promo) in enumerate(lines)
        ],
        total=_dollars(total),
        currency="USD",
        completed_at=NOW_MS - draw(st.integers(0, 500)) * DAY_MS,  # some points lots already expired
    )


@st.composite
def refunds(draw: st.DrawFn, index: int, placed: list[OrderIn]) -> RefundOp:
    """A refund of a placed order: the rest (no amount), zero, part of it, or possibly more than is left."""
    order = draw(st.sampled_from(placed))
    total = int(order.total.scaleb(2))
    amount = draw(
        st.one_of(
            st.none(), st.just(0), st.integers(1, max(1, total // 3)), st.integers(1, total), st.integers(1, total * 2)
        )
    )
    refund = RefundIn(refund_id=f"r{index}", amount=None if amount is None else _dollars(amount))
    return RefundOp(order.order_id, refund)


@st.composite
def scripts(draw: st.DrawFn) -> Script:
    customers = CUSTOMERS[: draw(st.integers(1, len(CUSTOMERS)))]
    placed = [draw(orders(n, customers)) for n in range(draw(st.integers(1, 6)))]
    ops: tuple[Op, ...] = (*placed, *(draw(refunds(n, placed)) for n in range(draw(st.integers(0, 6)))))
    copies = [draw(st.integers(1, 3)) for _ in ops]
    deliveries = tuple(draw(st.permutations([i for i, n in enumerate(copies) for _ in range(n)])))
    yields = st.lists(st.integers(0, 4), min_size=len(deliveries), max_size=len(deliveries))
    return Script(ops, deliveries, tuple(draw(yields)), tuple(draw(yields)))


DELIVERY: contextvars.ContextVar[int] = contextvars.ContextVar("DELIVERY")
"""Which delivery the running task makes (each task runs in its own copy of the context)."""


@dataclass(frozen=True)
class Observation:
    """One delivery's transaction: the ledger its committed ``decide`` read, the ledger it wrote (``None``:
    no write — a duplicate or a refusal), and how many times ``decide`` ran (more than once: WATCH retries)."""

    customer_id: str
    read: Ledger | None
    wrote: Ledger | None
    calls: int


class RecordingLedger:
    """The real ledger store, with each ``decide`` wrapped to note what it read; nothing else changes.

    ``transact`` and ``act`` commit what the last ``decide`` call returned (a WATCH conflict calls it again), so the
    last read is the one the committed write — or the refusal — was based on."""

    def __init__(self, inner: LedgerStore) -> None:
        self.inner = inner
        self.seen: dict[int, Observation] = {}

    async def transact(self, customer_id: str, order_id: str | None, decide: Decide) -> LedgerChange:
        reads: list[Ledger | None] = []

        def noted(ledger: Ledger | None, stored: StoredOrder | None) -> LedgerChange:
            reads.append(ledger)
            return decide(ledger, stored)

        try:
            change = await self.inner.transact(customer_id, order_id, noted)
        except (ServiceError, LoyaltyError):
            self._note(customer_id, reads, None)
            raise
        self._note(customer_id, reads, change.ledger)
        return change

    async def act(self, customer_id: str, wants: Wants, decide: Act) -> LedgerChange:
        reads: list[Ledger | None] = []

        def noted(found: Reads) -> LedgerChange:
            reads.append(found.ledger)
            return decide(found)

        try:
            change = await self.inner.act(customer_id, wants, noted)
        except (ServiceError, LoyaltyError):
            self._note(customer_id, reads, None)
            raise
        self._note(customer_id, reads, change.ledger)
        return change

    def _note(self, customer_id: str, reads: list[Ledger | None], wrote: Ledger | None) -> None:
        delivery = DELIVERY.get()
        assert delivery not in self.seen, f"delivery {delivery} ran two transactions"
        self.seen[delivery] = Observation(customer_id, reads[-1], wrote, len(reads))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class RecordingStore:
    """A store whose ledger is a :class:`RecordingLedger`; every other concern is the real one."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.ledger = RecordingLedger(inner.ledger)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def apply(runtime: Runtime, op: Op) -> Outcome:
    """One delivery through the application functions the HTTP routes call."""
    try:
        if isinstance(op, OrderIn):
            return await complete_order(runtime, op, NOW_MS)
        return await refund_order(runtime, op.order_id, op.refund, NOW_MS)
    except ServiceError as exc:
        return Refusal(status_of(exc), exc.code, exc.message)
    except LoyaltyError as exc:  # a refund larger than what remains
        return Refusal(status_of(exc), "refund_too_large", str(exc))


async def until_present(runtime: Runtime, op: Op) -> tuple[Outcome, int]:
    """Deliver, retrying while the order is not there yet (404), like a webhook; and how many 404s it got."""
    missing = 0
    with anyio.fail_after(RETRY_SECONDS):
        outcome = await apply(runtime, op)
        while isinstance(outcome, Refusal) and outcome.status == 404:
            missing += 1
            await anyio.sleep(0.001)
            outcome = await apply(runtime, op)
    return outcome, missing


async def deliver_concurrently(runtime: Runtime, script: Script) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(script.deliveries)
    missing = [0] * len(script.deliveries)

    async def deliver(n: int) -> None:
        DELIVERY.set(n)
        for _ in range(script.yields_before[n]):
            await anyio.lowlevel.checkpoint()
        outcomes[n], missing[n] = await until_present(runtime, script.ops[script.deliveries[n]])

    async with anyio.create_task_group() as group:
        for n in range(len(script.deliveries)):
            group.start_soon(deliver, n)
            for _ in range(script.yields_after[n]):
                await anyio.lowlevel.checkpoint()
    event(f"a refund came before its order: {'yes' if any(missing) else 'no'}")
    done = [outcome for outcome in outcomes if outcome is not None]
    assert len(done) == len(outcomes), "a delivery ended without an answer"
    return done


@dataclass(frozen=True)
class Serial:
    """The run as a serial history: per customer, the deliveries that wrote, in the order they were applied,
    and the position on that chain (0: before any write) each delivery read."""

    chains: dict[str, list[int]]
    position: dict[int, int]


def serialise(seen: dict[int, Observation]) -> Serial:
    """Chain each customer's writes by what they read; fails when two writes read the same ledger (a lost
    update) or a read saw a ledger no write produced."""
    chains: dict[str, list[int]] = {}
    states: dict[str, list[Ledger | None]] = {}
    for customer in sorted({o.customer_id for o in seen.values()}):
        pending = [n for n, o in seen.items() if o.customer_id == customer and o.wrote is not None]
        chain, trail = [], [cast(Ledger | None, None)]
        while pending:
            following = [n for n in pending if seen[n].read == trail[-1]]
            assert len(following) == 1, f"{customer}: {len(following)} writes read the ledger after {chain}"
            chain.append(following[0])
            trail.append(seen[following[0]].wrote)
            pending.remove(following[0])
        chains[customer], states[customer] = chain, trail
    position = {}
    for n, observation in seen.items():
        trail = states[observation.customer_id]
        assert observation.read in trail, f"delivery {n} read a ledger no serial history has"
        position[n] = trail.index(observation.read)
    return Serial(chains, position)


def check_outcomes(script: Script, outcomes: list[Outcome], seen: dict[int, Observation]) -> dict[int, int]:
    """Property 1; returns, per operation, the delivery whose outcome stands for it (the applied one, or for a
    refused refund the first refusal)."""
    primary: dict[int, int] = {}
    for op in range(len(script.ops)):
        mine = [n for n, index in enumerate(script.deliveries) if index == op]
        wrote = [n for n in mine if seen[n].wrote is not None]
        assert len(wrote) <= 1, f"operation {op} was applied {len(wrote)} times"
        first = outcomes[wrote[0]] if wrote else outcomes[mine[0]]
        for n in mine:
            assert same_effect(outcomes[n], first, duplicate=n not in wrote), (op, outcomes[n], first)
        assert wrote or isinstance(script.ops[op], RefundOp), f"order {op} was never applied"
        primary[op] = wrote[0] if wrote else mine[0]
    return primary


def same_effect(outcome: Outcome, first: Outcome, duplicate: bool) -> bool:
    """Whether a delivery answered as the operation's standing delivery says it should."""
    match outcome, first:
        case OrderResult(), OrderResult():
            return outcome == msgspec.structs.replace(first, duplicate=duplicate)
        case RefundResult(), RefundResult():
            # a replayed refund reports what it did; its balance fields are those of the moment it is replayed
            effect = ("refund_id", "amount", "qualifying_reversed", "points_reversed", "tier_reverted")
            return outcome.duplicate == duplicate and all(getattr(outcome, f) == getattr(first, f) for f in effect)
        case Refusal(), Refusal():
            return (outcome.status, outcome.code) == (first.status, first.code) == (422, "refund_too_large")
    return False


async def replay(runtime: Runtime, script: Script, serial: Serial, primary: dict[int, int]) -> dict[int, Outcome]:
    """Each operation once, sequentially: customer by customer, the refusals that read position k of the
    customer's chain, then the chain's write k+1."""
    writes = {n for chain in serial.chains.values() for n in chain}
    refused = {op: n for op, n in primary.items() if n not in writes}
    outcomes: dict[int, Outcome] = {}
    for customer, chain in serial.chains.items():
        for k in range(len(chain) + 1):
            here = [op for op, n in refused.items() if script.customer_of(op) == customer and serial.position[n] == k]
            here += [script.deliveries[chain[k]]] if k < len(chain) else []
            for op in here:
                if op not in outcomes:  # each operation once, even if the run wrote it twice
                    outcomes[op] = await apply(runtime, script.ops[op])
    return outcomes


@dataclass(frozen=True)
class Snapshot:
    """Everything the ledger store holds for a script, and the loyalty state the API shows from it."""

    ledgers: list[Ledger]
    orders: dict[str, StoredOrder | None]
    totals: dict[str, int]
    loyalty: list[LoyaltyState]


async def snapshot(runtime: Runtime, script: Script) -> Snapshot:
    store = runtime.store.ledger
    ledgers = sorted([ledger async for ledger in store.ledgers()], key=lambda ledger: ledger.customer_id)
    order_ids = [op.order_id for op in script.ops if isinstance(op, OrderIn)]
    return Snapshot(
        ledgers=ledgers,
        orders={order_id: await store.order(order_id) for order_id in order_ids},
        totals=await store.totals(),
        loyalty=[loyalty_state(standing_for(runtime.settings, ledger, NOW_MS), "USD") for ledger in ledgers],
    )


def check_invariants(script: Script, state: Snapshot) -> None:
    """Property 4: what holds whatever order the writes were applied in."""
    placed = [op for op in script.ops if isinstance(op, OrderIn)]
    stored = {order_id: order for order_id, order in state.orders.items() if order is not None}
    assert sorted(stored) == sorted(o.order_id for o in placed)
    for order in stored.values():
        assert order.refunded_minor == sum(r.amount_minor for r in order.refunds) <= order.total_minor
    for ledger in state.ledgers:
        mine = [stored[o.order_id] for o in placed if o.customer_id == ledger.customer_id]
        assert sorted(f.order_id for f in ledger.history) == sorted(o.order_id for o in mine)
        assert ledger.lifetime_minor == sum(o.total_minor - o.refunded_minor for o in mine)
    tiers = Counter(ledger.tier for ledger in state.ledgers if ledger.tier)
    counted = {key.removeprefix("tier:"): n for key, n in state.totals.items() if key.startswith("tier:") and n}
    assert counted == dict(tiers)
    assert state.totals["orders"] == len(placed)
    assert state.totals["customers"] == len(state.ledgers) == len({o.customer_id for o in placed})
    assert state.totals["lifetime_minor"] == sum(ledger.lifetime_minor for ledger in state.ledgers)


async def check_serialisable(script: Script, concurrent_url: str, serial_url: str) -> None:
    settings_ = make_settings(store_url=concurrent_url)
    recording = RecordingStore(open_store(concurrent_url, tracking_config(settings_)))
    concurrent = Runtime(settings_, cast(Store, recording))
    sequential = Runtime.open(make_settings(store_url=serial_url))
    try:
        outcomes = await deliver_concurrently(concurrent, script)
        seen = recording.ledger.seen
        describe(outcomes, seen)
        primary = check_outcomes(script, outcomes, seen)
        serial = serialise(seen)
        replayed = await replay(sequential, script, serial, primary)
        assert replayed == {op: outcomes[n] for op, n in primary.items()}
        state = await snapshot(concurrent, script)
        check_invariants(script, state)
        assert state == await snapshot(sequential, script)
    finally:
        await concurrent.close()
        await sequential.close()


def describe(outcomes: list[Outcome], seen: dict[int, Observation]) -> None:
    """What the example exercised, for ``--hypothesis-show-statistics``."""
    event(f"WATCH retries: {'yes' if any(o.calls > 1 for o in seen.values()) else 'no'}")
    event(f"a refund refused: {'yes' if any(isinstance(o, Refusal) for o in outcomes) else 'no'}")
    refunds = [o for o in outcomes if isinstance(o, RefundResult) and not o.duplicate]
    event(f"refunds applied: {min(len(refunds), 3)}{'+' if len(refunds) >= 3 else ''}")
    event(f"an upgrade reverted by a full refund: {'yes' if any(o.tier_reverted for o in refunds) else 'no'}")
    reached = {o.loyalty.tier for o in outcomes if isinstance(o, OrderResult | RefundResult)}
    event(f"highest tier reached: {next((t for t in reversed(TIERS) if t in reached), 'none')}")


def store_urls(backend: str, request: pytest.FixtureRequest) -> tuple[str, str]:
    """Two empty stores: the concurrent run's and the replay's (databases 1 and 2 of the session's server)."""
    if backend == "memory":
        return "memory://", "memory://"
    server: RedisServer = request.getfixturevalue("redis_server")
    server.flush()
    return f"redis://127.0.0.1:{server.port}/1", f"redis://127.0.0.1:{server.port}/2"


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=100, deadline=None, database=None)
@given(script=scripts())
def test_concurrent_deliveries_end_as_a_sequential_replay(
    backend: str, request: pytest.FixtureRequest, script: Script
) -> None:
    note(str(script))
    anyio.run(check_serialisable, script, *store_urls(backend, request))
