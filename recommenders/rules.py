"""Association rules for cross-sell: frequent itemsets and single-consequent rules over baskets.

Semantics follow R's ``arules::apriori`` with a single-item right-hand side: a rule ``X ⇒ {y}`` has
length ``|X| + 1``; the itemset ``X ∪ {y}`` is frequent when ``count ≥ min_support · n`` and the rule is
kept when ``count ≥ min_confidence · count(X)``. Both thresholds are compared in exact rational
arithmetic (a float is read as its shortest decimal, so ``0.3`` means 3/10): with floats,
``0.3 · 10 = 3.0000000000000004`` would drop an itemset sitting exactly at the threshold. Rules of
length 1 have an empty antecedent (``{} ⇒ {y}``, confidence = support of ``y``), as in arules.

Itemsets are mined depth-first (Eclat) on vertical tid-sets held as Python integers used as bitsets:
one ``&`` and one ``int.bit_count`` per candidate, which mines the 9,835 groceries baskets in well
under a second.

:class:`AssociationRules` serves the rules in implicit's vocabulary (``fit``, ``recommend``, ``save``,
``load``). Errors: ``ValueError`` ← :class:`RulesError` (bad parameters, unreadable saved model).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Iterator, Sequence
from fractions import Fraction
from itertools import combinations
from typing import Self

import msgspec
import numpy as np
import numpy.typing as npt

from recommenders.base import Ids, Query, Scores, as_items, empty

RECENT_ITEMS = 12
"""Distinct items, counted back from the most recent, that ``recommend`` looks at (bounds its cost)."""

FORMAT_VERSION = 1
"""Version of the ``.npz`` layout written by :meth:`AssociationRules.save`."""


Itemset = tuple[int, ...]


class RulesError(ValueError):
    """A parameter out of range, or a saved model that cannot be read."""


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """One rule ``antecedent ⇒ {consequent}`` with the counts its measures come from."""

    antecedent: tuple[str, ...]
    """Sorted item ids; empty for a rule of length 1."""
    consequent: str
    count: int
    """Baskets containing the antecedent and the consequent."""
    antecedent_count: int
    consequent_count: int
    n_baskets: int

    @property
    def support(self) -> float:
        """Share of baskets holding the whole rule."""
        return self.count / self.n_baskets

    @property
    def confidence(self) -> float:
        """Share of the antecedent's baskets that also hold the consequent."""
        return self.count / self.antecedent_count

    @property
    def lift(self) -> float:
        """Confidence over the consequent's support.

        One correctly rounded integer division, so rules with equal rational lift get equal floats.
        """
        return (self.count * self.n_baskets) / (self.antecedent_count * self.consequent_count)

    def confidence_above(self, fraction: Fraction) -> bool:
        """Whether the confidence is strictly above ``fraction``, compared exactly."""
        return self.count * fraction.denominator > fraction.numerator * self.antecedent_count


def mine_rules(
    baskets: Iterable[Iterable[str]],
    *,
    min_support: float | Fraction,
    min_confidence: float | Fraction,
    min_length: int = 1,
    max_length: int = 10,
) -> list[Rule]:
    """All rules with a single-item consequent meeting the thresholds, as ``arules::apriori`` finds them.

    Args:
        baskets: item ids per basket; an item repeated within a basket counts once.
        min_support: share of baskets, in (0, 1]; an itemset qualifies when ``count ≥ min_support · n``.
        min_confidence: in [0, 1]; a rule qualifies when ``count ≥ min_confidence · antecedent_count``.
        min_length: fewest items in a rule (antecedent plus consequent); 1 allows ``{} ⇒ {y}``.
        max_length: most items in a rule.

    Returns:
        The rules by lift, then count, descending; ties by antecedent, then consequent.

    Raises:
        RulesError: a threshold or length out of range.
    """
    support = _fraction("min_support", min_support, allow_zero=False)
    confidence = _fraction("min_confidence", min_confidence, allow_zero=True)
    _check_lengths(min_length, max_length)
    labels, tidsets, n = _vertical(baskets)
    counts = _frequent_itemsets(tidsets, _min_count(support, n), max_length)
    counts[()] = n
    rules = [
        rule
        for itemset in counts
        if min_length <= len(itemset) and itemset
        for rule in _rules_from(itemset, counts, labels, confidence)
    ]
    return sorted(rules, key=_rule_order)


def _fraction(name: str, value: float | Fraction, *, allow_zero: bool) -> Fraction:
    exact = value if isinstance(value, Fraction) else Fraction(str(value))
    if not (0 <= exact <= 1) or (exact == 0 and not allow_zero):
        bounds = "[0, 1]" if allow_zero else "(0, 1]"
        raise RulesError(f"{name} {value} must be in {bounds}")
    return exact


def _check_lengths(min_length: int, max_length: int) -> None:
    if min_length < 1:
        raise RulesError(f"min_length {min_length} must be at least 1")
    if max_length < min_length:
        raise RulesError(f"max_length {max_length} must be at least min_length {min_length}")


def _min_count(support: Fraction, n: int) -> int:
    """The smallest integer ``c`` with ``c ≥ support · n`` (exact ceiling)."""
    return -(-support.numerator * n // support.denominator)


def _vertical(baskets: Iterable[Iterable[str]]) -> tuple[list[str], list[int], int]:
    """Sorted item ids, one bitset of basket positions per item, and the number of baskets."""
    sets = [frozenset(basket) for basket in baskets]
    labels = sorted(frozenset().union(*sets))
    index = {label: position for position, label in enumerate(labels)}
    members: list[list[int]] = [[] for _ in labels]
    for row, basket in enumerate(sets):
        for label in basket:
            members[index[label]].append(row)
    return labels, [_bitset(rows, len(sets)) for rows in members], len(sets)


def _bitset(rows: list[int], n: int) -> int:
    bits = np.zeros(n, dtype=np.bool_)
    bits[rows] = True
    return int.from_bytes(np.packbits(bits, bitorder="little").tobytes(), "little")


def _frequent_itemsets(tidsets: list[int], min_count: int, max_length: int) -> dict[Itemset, int]:
    """Count of every frequent itemset, keyed by item positions in ascending-frequency order.

    Extending rare items first keeps the tid-sets of deep prefixes small; any fixed order works, as
    long as every itemset (and each of its subsets) is keyed in the same one.
    """
    singles = [(item, tids, tids.bit_count()) for item, tids in enumerate(tidsets)]
    frequent = sorted((entry for entry in singles if entry[2] >= min_count), key=lambda entry: (entry[2], entry[0]))
    counts: dict[Itemset, int] = {}
    _eclat((), [(item, tids) for item, tids, _ in frequent], min_count, max_length, counts)
    return counts


def _eclat(
    prefix: Itemset, extensions: list[tuple[int, int]], min_count: int, max_length: int, counts: dict[Itemset, int]
) -> None:
    for position, (item, tids) in enumerate(extensions):
        itemset = (*prefix, item)
        counts[itemset] = tids.bit_count()
        if len(itemset) < max_length:
            deeper = _extend(tids, extensions[position + 1 :], min_count)
            if deeper:
                _eclat(itemset, deeper, min_count, max_length, counts)


def _extend(tids: int, others: list[tuple[int, int]], min_count: int) -> list[tuple[int, int]]:
    return [(item, both) for item, other in others if (both := tids & other).bit_count() >= min_count]


def _rules_from(
    itemset: Itemset, counts: dict[Itemset, int], labels: list[str], confidence: Fraction
) -> Iterator[Rule]:
    count, n = counts[itemset], counts[()]
    for position, item in enumerate(itemset):
        antecedent = itemset[:position] + itemset[position + 1 :]
        antecedent_count = counts[antecedent]
        if count * confidence.denominator >= confidence.numerator * antecedent_count:
            yield Rule(
                antecedent=tuple(labels[i] for i in sorted(antecedent)),
                consequent=labels[item],
                count=count,
                antecedent_count=antecedent_count,
                consequent_count=counts[(item,)],
                n_baskets=n,
            )


def _rule_order(rule: Rule) -> tuple[float, int, tuple[str, ...], str]:
    return (-rule.lift, -rule.count, rule.antecedent, rule.consequent)


class _Table(msgspec.Struct, frozen=True):
    """The fitted rules as flat arrays: the saved form and the source of the serving index.

    Group ``g`` has antecedent ``antecedent_items[antecedent_offsets[g]:antecedent_offsets[g + 1]]``
    (ascending indices into ``item_ids``) and rules ``rule_offsets[g]:rule_offsets[g + 1]`` of
    ``consequents``/``lifts``, best lift first.
    """

    item_ids: Ids
    antecedent_items: npt.NDArray[np.int32]
    antecedent_offsets: npt.NDArray[np.int64]
    rule_offsets: npt.NDArray[np.int64]
    consequents: npt.NDArray[np.int32]
    lifts: Scores


class AssociationRules:
    """Cross-sell from association rules: consequents of the rules a cart (or an anchor item) fires.

    Args:
        min_support: share of baskets a rule's itemset must reach (exact comparison, see the module).
        min_confidence: confidence a rule must reach.
        max_antecedent: most items on a rule's left-hand side (1 or more).
        top_per_antecedent: rules kept per antecedent, by lift; bounds the work of ``recommend``.
    """

    def __init__(
        self,
        min_support: float = 0.001,
        min_confidence: float = 0.1,
        max_antecedent: int = 3,
        top_per_antecedent: int = 50,
    ) -> None:
        _fraction("min_support", min_support, allow_zero=False)
        _fraction("min_confidence", min_confidence, allow_zero=True)
        if min(max_antecedent, top_per_antecedent) < 1:
            raise RulesError(f"max_antecedent {max_antecedent}, top_per_antecedent {top_per_antecedent} must be ≥ 1")
        self.min_support, self.min_confidence = min_support, min_confidence
        self.max_antecedent, self.top_per_antecedent = max_antecedent, top_per_antecedent
        self._install(_table_from([]))

    @property
    def item_ids(self) -> Ids:
        """Ids of the items that appear in a kept rule, ascending."""
        return self._table.item_ids

    @property
    def n_rules(self) -> int:
        """Rules kept for serving."""
        return len(self._table.consequents)

    def fit(self, baskets: Iterable[Iterable[str]]) -> Self:
        """Mine the rules of length 2 to ``max_antecedent + 1`` and index the best ones per antecedent.

        Args:
            baskets: item ids per completed order.

        Returns:
            The model itself.
        """
        rules = mine_rules(
            baskets,
            min_support=self.min_support,
            min_confidence=self.min_confidence,
            min_length=2,
            max_length=self.max_antecedent + 1,
        )
        grouped: dict[tuple[str, ...], list[Rule]] = {}
        for rule in rules:
            grouped.setdefault(rule.antecedent, []).append(rule)
        kept = [rule for antecedent in sorted(grouped) for rule in grouped[antecedent][: self.top_per_antecedent]]
        self._install(_table_from(kept))
        return self

    def recommend(self, query: Query, n: int, exclude: Collection[str] = ()) -> tuple[Ids, Scores]:
        """Consequents of the rules whose antecedent lies within the last distinct items, by best lift.

        Args:
            query: the cart or session, oldest first (or one item id); only the last :data:`RECENT_ITEMS`
                distinct ones fire rules.
            n: most items to return.
            exclude: ids never to return (besides ``items`` themselves).

        Returns:
            ``(ids, scores)``: item ids and their best lift (float32), highest first; ties by id.
        """
        items = as_items(query)
        known = sorted(self._index[item] for item in _last_distinct(items, RECENT_ITEMS) if item in self._index)
        hits = [
            self._rules[key]
            for size in range(1, self.max_antecedent + 1)
            for key in combinations(known, size)
            if key in self._rules
        ]
        if not hits or n <= 0:
            return empty()
        consequents, lifts = _best_per_consequent(hits)
        dropped = [self._index[item] for item in {*items, *exclude} if item in self._index]
        keep = ~np.isin(consequents, dropped)
        consequents, lifts = consequents[keep], lifts[keep]
        order = np.lexsort((consequents, -lifts))[:n]
        return self._table.item_ids[consequents[order]], lifts[order]

    def similar_items(self, item: str, n: int, exclude: Collection[str] = ()) -> tuple[Ids, Scores]:
        """The consequents of the rules ``item`` fires alone (never the item itself)."""
        return self.recommend([item], n, exclude)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path`` as one compressed ``.npz`` (no pickled objects; the name is kept as given)."""
        table = self._table
        with open(path, "wb") as handle:
            np.savez_compressed(
                handle,
                format_version=np.array(FORMAT_VERSION, dtype=np.int64),
                thresholds=np.array([self.min_support, self.min_confidence], dtype=np.float64),
                limits=np.array([self.max_antecedent, self.top_per_antecedent], dtype=np.int64),
                **{field: getattr(table, field) for field in table.__struct_fields__},
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read a model written by :meth:`save`.

        Raises:
            RulesError: the file is of another format version or lacks an array.
        """
        with np.load(path, allow_pickle=False) as data:
            version = int(data["format_version"]) if "format_version" in data.files else None
            if version != FORMAT_VERSION:
                raise RulesError(f"{os.fspath(path)!r} has format_version {version}, expected {FORMAT_VERSION}")
            try:
                arrays = {field: data[field] for field in _Table.__struct_fields__}
                (support, confidence), (max_antecedent, top) = data["thresholds"].tolist(), data["limits"].tolist()
            except KeyError as missing:
                raise RulesError(f"{os.fspath(path)!r} lacks the array {missing}") from None
        model = cls(float(support), float(confidence), int(max_antecedent), int(top))
        model._install(_Table(**arrays))
        return model

    def _install(self, table: _Table) -> None:
        """Build the serving index: antecedent (ascending item indices) → (consequents, lifts)."""
        self._table = table
        self._index = {str(item): position for position, item in enumerate(table.item_ids.tolist())}
        self._rules: dict[Itemset, tuple[npt.NDArray[np.int32], Scores]] = {}
        starts, rule_starts = table.antecedent_offsets.tolist(), table.rule_offsets.tolist()
        for group in range(len(starts) - 1):
            key = tuple(table.antecedent_items[starts[group] : starts[group + 1]].tolist())
            span = slice(rule_starts[group], rule_starts[group + 1])
            self._rules[key] = (table.consequents[span], table.lifts[span])


def _table_from(rules: list[Rule]) -> _Table:
    """Flat arrays for ``rules``, which must arrive grouped by antecedent, best lift first within a group."""
    labels = sorted({item for rule in rules for item in (*rule.antecedent, rule.consequent)})
    index = {label: position for position, label in enumerate(labels)}
    groups: list[tuple[str, ...]] = []
    sizes: list[int] = []
    for rule in rules:
        if groups and groups[-1] == rule.antecedent:
            sizes[-1] += 1
        else:
            groups.append(rule.antecedent)
            sizes.append(1)
    return _Table(
        item_ids=np.array(labels, dtype=np.str_),
        antecedent_items=np.array([index[item] for antecedent in groups for item in antecedent], dtype=np.int32),
        antecedent_offsets=np.cumsum([0, *map(len, groups)], dtype=np.int64),
        rule_offsets=np.cumsum([0, *sizes], dtype=np.int64),
        consequents=np.array([index[rule.consequent] for rule in rules], dtype=np.int32),
        lifts=np.array([rule.lift for rule in rules], dtype=np.float32),
    )


def _last_distinct(items: Sequence[str], limit: int) -> list[str]:
    """The last ``limit`` distinct items, most recent first."""
    seen: dict[str, None] = {}
    for item in reversed(items):
        if len(seen) == limit:
            break
        seen.setdefault(item, None)
    return list(seen)


def _best_per_consequent(hits: list[tuple[npt.NDArray[np.int32], Scores]]) -> tuple[npt.NDArray[np.int32], Scores]:
    """Each consequent once, with the highest lift any fired rule gives it."""
    consequents = np.concatenate([found[0] for found in hits])
    lifts = np.concatenate([found[1] for found in hits])
    order = np.lexsort((-lifts, consequents))
    unique, first = np.unique(consequents[order], return_index=True)
    return unique, lifts[order][first]
