"""The association-rules report behind ``personalize evaluate rules``: read baskets, mine, summarise.

Two basket files are understood, both UTF-8 CSV without quoting surprises:

- ``lines``: one basket per line, items separated by commas (``groceries_lantz.csv``);
- ``long``: a header starting ``transaction_id,item`` and one row per item (``groceries_arules_long.csv``),
  grouped by ``transaction_id`` in the order transactions are first seen.

Item labels are kept exactly as written, spaces included (the groceries data has ``"cream cheese "``);
only line endings are removed. Blank lines and empty fields are skipped.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import Literal

import msgspec

from recommenders.rules import Rule, RulesError, mine_rules

HIGH_CONFIDENCE = Fraction(4, 5)
"""The confidence a rule must exceed (strictly, compared exactly) to count in ``confidence_above_0_8``."""


class RuleRow(msgspec.Struct, frozen=True, kw_only=True):
    """One rule as the report lists it."""

    antecedent: tuple[str, ...]
    consequent: str
    support: float
    confidence: float
    lift: float
    count: int


class RulesReport(msgspec.Struct, frozen=True, kw_only=True):
    """What mining a basket file found."""

    n_baskets: int
    n_items: int
    """Distinct items over all baskets."""
    n_rules: int
    by_length: dict[int, int]
    """Rules per length (antecedent items + 1), ascending length."""
    top: list[RuleRow]
    """The best rules by lift, then count, descending."""
    confidence_above_0_8: int
    """Rules whose confidence is strictly above 4/5, compared exactly."""


def read_baskets(path: str | os.PathLike[str], fmt: Literal["lines", "long"]) -> list[list[str]]:
    """Baskets from a CSV file, labels kept exactly as written.

    Args:
        path: the file.
        fmt: ``lines`` (one comma-separated basket per line) or ``long`` (``transaction_id,item,...`` rows).

    Returns:
        The baskets in file order, items in the order they appear.

    Raises:
        RulesError: an unknown ``fmt``, a ``long`` file without the header, or a row without an item.
    """
    if fmt not in ("lines", "long"):
        raise RulesError(f"basket format {fmt!r} must be 'lines' or 'long'")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        if fmt == "lines":
            return [basket for row in rows if (basket := [item for item in row if item])]
        return _group_long(rows, os.fspath(path))


def _group_long(rows: Iterator[list[str]], name: str) -> list[list[str]]:
    header = next(rows, [])
    if header[:2] != ["transaction_id", "item"]:
        raise RulesError(f"{name!r} header {header[:2]} must start with transaction_id,item")
    baskets: dict[str, list[str]] = {}
    for line, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) < 2 or not row[1]:
            raise RulesError(f"{name!r} line {line} has no item: {row}")
        baskets.setdefault(row[0], []).append(row[1])
    return list(baskets.values())


def rules_report(
    baskets: Iterable[Iterable[str]],
    *,
    min_support: float | Fraction = 0.001,
    min_confidence: float | Fraction = 0.5,
    min_length: int = 1,
    max_length: int = 10,
    top: int = 10,
) -> RulesReport:
    """Mine ``baskets`` and summarise the rules (parameters as in :func:`recommenders.rules.mine_rules`).

    Args:
        baskets: item ids per basket.
        min_support: share of baskets a rule's itemset must reach.
        min_confidence: confidence a rule must reach.
        min_length: fewest items in a rule.
        max_length: most items in a rule.
        top: rules to list.

    Returns:
        The counts, the length distribution and the ``top`` rules by lift, then count.
    """
    sets = [frozenset(basket) for basket in baskets]
    rules = mine_rules(
        sets, min_support=min_support, min_confidence=min_confidence, min_length=min_length, max_length=max_length
    )
    lengths = Counter(len(rule.antecedent) + 1 for rule in rules)
    return RulesReport(
        n_baskets=len(sets),
        n_items=len(frozenset().union(*sets)),
        n_rules=len(rules),
        by_length=dict(sorted(lengths.items())),
        top=[_row(rule) for rule in rules[: max(top, 0)]],
        confidence_above_0_8=sum(rule.confidence_above(HIGH_CONFIDENCE) for rule in rules),
    )


def _row(rule: Rule) -> RuleRow:
    return RuleRow(
        antecedent=rule.antecedent,
        consequent=rule.consequent,
        support=rule.support,
        confidence=rule.confidence,
        lift=rule.lift,
        count=rule.count,
    )


def format_report(report: RulesReport) -> str:
    """The report as a plain-text summary and table (labels quoted, so trailing spaces show)."""
    lengths = ", ".join(f"{length}: {count}" for length, count in report.by_length.items()) or "none"
    lines = [
        f"baskets {report.n_baskets}, items {report.n_items}, rules {report.n_rules}",
        f"rules by length (antecedent + consequent): {lengths}",
        f"rules with confidence > 0.8: {report.confidence_above_0_8}",
        "",
        f"{'#':>3}  {'lift':>8}  {'count':>6}  {'support':>8}  {'confidence':>10}  rule",
    ]
    for rank, row in enumerate(report.top, start=1):
        rule = f"{{{', '.join(map(_label, row.antecedent))}}} => {{{_label(row.consequent)}}}"
        lines.append(
            f"{rank:>3}  {row.lift:>8.3f}  {row.count:>6}  {row.support:>8.5f}  {row.confidence:>10.3f}  {rule}"
        )
    return "\n".join(lines)


def _label(item: str) -> str:
    """An item as written, quoted only when leading or trailing spaces would otherwise be invisible."""
    return repr(item) if item != item.strip() else item
