"""RFM segments, win-back stages and price sensitivity from per-customer order facts (pure).

``segment_customers`` scores one population of customers together, as of an analysis time passed in
(epoch milliseconds; nothing here reads a clock). Money is integer minor units. Only orders at or
before ``as_of_ms`` count, and only customers with at least one such order are scored.

Scoring by position
    For each metric the scored customers are ordered by ``(value, customer_id)`` ascending and given
    positions p = 1..n; the score is ``ceil(bins·p/n)``, computed as ``(bins*p + n - 1) // n``. Ties
    are thus broken by customer id before binning (pandas' ``rank(method="first")``), every bin is
    used when n ≥ bins, and bin sizes differ by at most one otherwise (n = 7 gives 1, 2, 3, 3, 4, 5, 5).
    A population of one gets the top bin (so R = 1 after inversion).

    * R (5 bins): value = recency_days = floor((as_of − last order) / 1 day), score inverted
      (6 − score) so the most recent customers get 5.
    * F (5 bins): value = number of orders.
    * M (5 bins): value = Σ net_minor (order totals net of refunds).
    * Price sensitivity (10 bins, 10 = most sensitive): value = 0.2·(orders on promotion / orders)
      + 0.8·(Σ discount / (Σ net + Σ discount)), the second share 0 when its denominator is 0.
      It is computed in exact fractions so equal scores tie exactly and fall to the id order.

Named segments
    The code ``f"{R}{F}"`` ("11" … "55") is matched (``re.fullmatch``) against the rules in order; the
    first match names it, no match gives ``"other"``. ``DEFAULT_RULES`` is the DOMAIN.md map and names
    all 25 codes. Rules are data marketers edit: ``validate_rules`` refuses a bad regex, a name that is
    not ``^[a-z][a-z0-9_]*$`` or is the reserved ``"other"``, and a rule that can never apply (it
    matches no code, or every code it matches is taken by an earlier rule). Several rules may share a
    name: a segment may be the union of several patterns.

Win-back
    g = median of the customer's inter-purchase intervals in days when they have ≥ 2 orders; else the
    store gap: the nearest-rank 80th percentile (the value at position ceil(0.8·k) of the k sorted
    values) of days from first to second order over the scored customers with ≥ 2 orders, at least
    30 days; 90 days when no scored customer has 2 orders. Stage 3 when recency_days > 3·g, 2 when
    > 2·g, 1 when > 1.5·g, else 0. A new order resets recency, which is how any order exits.
    Every number here is a default of ``SegmentPolicy``.

Errors::

    LoyaltyError (ValueError; loyalty_nudges.program, the package's base)
    └── SegmentError    a rule set, a policy or the input customers are unusable
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from itertools import pairwise
from typing import Annotated

import msgspec
from msgspec import Meta

from loyalty_nudges.program import LoyaltyError

DAY_MS = 86_400_000
OTHER = "other"
CODES = tuple(f"{r}{f}" for r in range(1, 6) for f in range(1, 6))
"""The 25 two-digit R,F codes a rule may name, "11" … "55"."""
_NAME = re.compile(r"[a-z][a-z0-9_]*")

NonNegative = Annotated[int, Meta(ge=0)]


class SegmentError(LoyaltyError):
    """A rule set, a policy or the input customers cannot be segmented; the message names the culprit."""


class OrderFact(msgspec.Struct, frozen=True, kw_only=True):
    """One completed order as segmentation sees it (any order, including ones after the analysis time)."""

    ts_ms: int
    net_minor: NonNegative
    """Order total minus refunds."""
    on_promotion: bool
    """Any line was on promotion."""
    discount_minor: NonNegative = 0
    """Discount value given on the order."""


class CustomerFacts(msgspec.Struct, frozen=True, kw_only=True):
    """A customer and their orders, in any order."""

    customer_id: str
    orders: tuple[OrderFact, ...]


class SegmentRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``pattern`` is a regex over the two-digit R,F code; a code it fully matches gets ``name``."""

    pattern: str
    name: str


DEFAULT_RULES: tuple[SegmentRule, ...] = tuple(
    SegmentRule(pattern=pattern, name=name)
    for pattern, name in (
        ("[1-2][1-2]", "hibernating"),
        ("[1-2][3-4]", "at_risk"),
        ("[1-2]5", "cant_lose"),
        ("3[1-2]", "about_to_sleep"),
        ("33", "need_attention"),
        ("[3-4][4-5]", "loyal_customers"),
        ("41", "promising"),
        ("51", "new_customers"),
        ("[4-5][2-3]", "potential_loyalists"),
        ("5[4-5]", "champions"),
    )
)


class SegmentPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The numbers of win-back and price sensitivity, defaulting to DOMAIN.md."""

    winback_stages: tuple[float, float, float] = (1.5, 2.0, 3.0)
    """Recency above these multiples of the gap g enters stages 1, 2 and 3."""
    store_gap_percentile: Annotated[int, Meta(ge=1, le=100)] = 80
    """Nearest-rank percentile of first-to-second-order days: the gap of customers with one order."""
    store_gap_floor_days: Annotated[float, Meta(ge=0)] = 30.0
    """The store gap is never below this."""
    store_gap_default_days: Annotated[float, Meta(gt=0)] = 90.0
    """The store gap when no scored customer has two orders."""
    promo_weight: Annotated[float, Meta(ge=0)] = 0.2
    """Weight of the share of orders on promotion in the price-sensitivity score."""
    discount_weight: Annotated[float, Meta(ge=0)] = 0.8
    """Weight of the discount value share in the price-sensitivity score."""


class CustomerSegment(msgspec.Struct, frozen=True, kw_only=True):
    """One scored customer as of the analysis time."""

    customer_id: str
    recency_days: int
    frequency: int
    monetary_minor: int
    r: int
    f: int
    m: int
    segment: str
    winback_stage: int
    """0 none, 1 past 1.5·g, 2 past 2·g, 3 past 3·g."""
    winback_gap_days: float
    """g: the customer's median inter-purchase interval, or the store gap."""
    price_sensitivity: int
    """Decile 1–10, 10 the most sensitive."""


class _Summary(msgspec.Struct, frozen=True, kw_only=True):
    """What scoring needs of one customer's orders at or before the analysis time."""

    customer_id: str
    times: tuple[int, ...]
    recency_days: int
    monetary_minor: int
    sensitivity: Fraction


def validate_rules(rules: Sequence[SegmentRule]) -> None:
    """Refuse a rule set that cannot be used as written.

    Args:
        rules: The rules, in matching order.

    Raises:
        SegmentError: Naming the first bad rule by position, name and pattern: a regex that does not
            compile, a name that is not ``^[a-z][a-z0-9_]*$`` or is ``"other"``, or a rule that never
            applies (it matches no code "11"–"55", or an earlier rule takes every code it matches).
    """
    segment_table(rules)


def segment_table(rules: Sequence[SegmentRule] = DEFAULT_RULES) -> dict[str, str]:
    """The segment name of each R,F code under ``rules`` (first full match wins, else ``"other"``).

    Args:
        rules: The rules, in matching order.

    Returns:
        ``{"11": name, …, "55": name}`` for all 25 codes.

    Raises:
        SegmentError: As ``validate_rules``.
    """
    patterns = [_compile(position, rule) for position, rule in enumerate(rules, 1)]
    table: dict[str, str] = {}
    winners: set[int] = set()
    for code in CODES:
        index = next((i for i, pattern in enumerate(patterns) if pattern.fullmatch(code)), None)
        table[code] = OTHER if index is None else rules[index].name
        if index is not None:
            winners.add(index)
    _refuse_dead_rules(rules, patterns, winners)
    return table


def _label(position: int, rule: SegmentRule) -> str:
    return f"Segment rule {position} {rule.name!r} (pattern {rule.pattern!r})"


def _compile(position: int, rule: SegmentRule) -> re.Pattern[str]:
    if not _NAME.fullmatch(rule.name):
        raise SegmentError(f"{_label(position, rule)}: name must match ^{_NAME.pattern}$")
    if rule.name == OTHER:
        raise SegmentError(f"{_label(position, rule)}: name {OTHER!r} is reserved for codes no rule matches")
    try:
        return re.compile(rule.pattern)
    except re.error as error:
        raise SegmentError(f"{_label(position, rule)}: pattern is not a valid regex ({error})") from None


def _refuse_dead_rules(rules: Sequence[SegmentRule], patterns: list[re.Pattern[str]], winners: set[int]) -> None:
    for index, (rule, pattern) in enumerate(zip(rules, patterns, strict=True)):
        if index in winners:
            continue
        if not any(pattern.fullmatch(code) for code in CODES):
            raise SegmentError(f"{_label(index + 1, rule)}: matches none of the R,F codes 11–55")
        raise SegmentError(f"{_label(index + 1, rule)}: never applies, earlier rules take every code it matches")


def segment_customers(
    customers: Iterable[CustomerFacts],
    as_of_ms: int,
    rules: Sequence[SegmentRule] = DEFAULT_RULES,
    *,
    policy: SegmentPolicy = SegmentPolicy(),  # noqa: B008 - frozen, so one shared default is safe
) -> list[CustomerSegment]:
    """Score every customer with an order at or before ``as_of_ms`` (see the module docstring).

    Args:
        customers: Each customer once, with all their orders; later orders are ignored.
        as_of_ms: The analysis time, epoch milliseconds.
        rules: The named-segment map, first full match wins.
        policy: Win-back and price-sensitivity numbers.

    Returns:
        One ``CustomerSegment`` per scored customer, sorted by ``customer_id``.

    Raises:
        SegmentError: A bad rule or policy, a customer listed twice, or a negative amount.
    """
    table = segment_table(rules)
    _check_policy(policy)
    summaries = _summaries(customers, as_of_ms, policy)
    store_gap = _store_gap(summaries, policy)
    r = _scores(summaries, 5, lambda s: s.recency_days)
    f = _scores(summaries, 5, lambda s: len(s.times))
    m = _scores(summaries, 5, lambda s: s.monetary_minor)
    sensitivity = _scores(summaries, 10, lambda s: s.sensitivity)
    return [
        _segment(summary, (6 - r[i], f[i], m[i], sensitivity[i]), table, _gap(summary, store_gap), policy)
        for i, summary in enumerate(summaries)
    ]


def _check_policy(policy: SegmentPolicy) -> None:
    stages = policy.winback_stages
    if not 0 < stages[0] <= stages[1] <= stages[2]:
        raise SegmentError(f"Segment policy winback_stages {stages} must be positive and ascending")


def _summaries(customers: Iterable[CustomerFacts], as_of_ms: int, policy: SegmentPolicy) -> list[_Summary]:
    seen: set[str] = set()
    summaries: list[_Summary] = []
    for customer in customers:
        if customer.customer_id in seen:
            raise SegmentError(f"Customer {customer.customer_id!r} is listed twice; merge their orders")
        seen.add(customer.customer_id)
        summary = _summarize(customer, as_of_ms, policy)
        if summary is not None:
            summaries.append(summary)
    summaries.sort(key=lambda s: s.customer_id)
    return summaries


def _summarize(customer: CustomerFacts, as_of_ms: int, policy: SegmentPolicy) -> _Summary | None:
    orders = sorted((o for o in customer.orders if o.ts_ms <= as_of_ms), key=lambda o: o.ts_ms)
    if not orders:
        return None
    _check_amounts(customer.customer_id, orders)
    net = sum(o.net_minor for o in orders)
    return _Summary(
        customer_id=customer.customer_id,
        times=tuple(o.ts_ms for o in orders),
        recency_days=(as_of_ms - orders[-1].ts_ms) // DAY_MS,
        monetary_minor=net,
        sensitivity=_sensitivity(orders, net, policy),
    )


def _check_amounts(customer_id: str, orders: list[OrderFact]) -> None:
    # msgspec checks Meta(ge=0) only when decoding; facts built in code are checked here.
    for order in orders:
        if order.net_minor < 0 or order.discount_minor < 0:
            raise SegmentError(
                f"Customer {customer_id!r} order at {order.ts_ms}: net_minor {order.net_minor} "
                f"and discount_minor {order.discount_minor} must not be negative"
            )


def _sensitivity(orders: list[OrderFact], net: int, policy: SegmentPolicy) -> Fraction:
    # Weights go through str() so 0.2 is exactly 1/5, not the binary float nearest to it.
    promo_share = Fraction(sum(o.on_promotion for o in orders), len(orders))
    discount = sum(o.discount_minor for o in orders)
    discount_share = Fraction(discount, net + discount) if net + discount else Fraction(0)
    return Fraction(str(policy.promo_weight)) * promo_share + Fraction(str(policy.discount_weight)) * discount_share


def _scores(summaries: list[_Summary], bins: int, value: Callable[[_Summary], int | Fraction]) -> list[int]:
    """Scores 1..bins aligned with ``summaries``, binned by position in (value, customer_id) order."""
    n = len(summaries)
    ranked = sorted(range(n), key=lambda i: (value(summaries[i]), summaries[i].customer_id))
    scores = [0] * n
    for position, index in enumerate(ranked, 1):
        scores[index] = (bins * position + n - 1) // n
    return scores


def _store_gap(summaries: list[_Summary], policy: SegmentPolicy) -> float:
    seconds = sorted((s.times[1] - s.times[0]) / DAY_MS for s in summaries if len(s.times) >= 2)
    if not seconds:
        return policy.store_gap_default_days
    rank = (policy.store_gap_percentile * len(seconds) + 99) // 100  # nearest rank: ceil(p·k/100)
    return max(policy.store_gap_floor_days, seconds[rank - 1])


def _gap(summary: _Summary, store_gap: float) -> float:
    if len(summary.times) < 2:
        return store_gap
    return float(statistics.median((b - a) / DAY_MS for a, b in pairwise(summary.times)))


def _stage(recency_days: int, gap: float, stages: tuple[float, float, float]) -> int:
    for stage in (3, 2, 1):
        if recency_days > stages[stage - 1] * gap:
            return stage
    return 0


def _segment(
    summary: _Summary, rfmp: tuple[int, int, int, int], table: dict[str, str], gap: float, policy: SegmentPolicy
) -> CustomerSegment:
    r, f, m, sensitivity = rfmp
    return CustomerSegment(
        customer_id=summary.customer_id,
        recency_days=summary.recency_days,
        frequency=len(summary.times),
        monetary_minor=summary.monetary_minor,
        r=r,
        f=f,
        m=m,
        segment=table[f"{r}{f}"],
        winback_stage=_stage(summary.recency_days, gap, policy.winback_stages),
        winback_gap_days=gap,
        price_sensitivity=sensitivity,
    )


def segment_counts(segments: Iterable[CustomerSegment], rules: Sequence[SegmentRule] = DEFAULT_RULES) -> dict[str, int]:
    """Customers per segment name.

    Args:
        segments: Output of ``segment_customers``.
        rules: The rules the segments were named with.

    Returns:
        Every rule name in rule order (zero included), then ``"other"`` and any name not in ``rules``,
        each only when non-zero.
    """
    counts = dict.fromkeys((rule.name for rule in rules), 0)
    for segment in segments:
        counts[segment.segment] = counts.get(segment.segment, 0) + 1
    return counts
