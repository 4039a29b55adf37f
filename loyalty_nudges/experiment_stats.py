"""Experiment statistics from running sums: per-unit means (Welch), ratio metrics and relative lifts (the delta
method), CUPED, and the sample-ratio check (DOMAIN.md, experiments).

Every figure is computed from sums an arm keeps as orders arrive — ``n``, ``Σx``, ``Σx²`` per unit metric, and the
cross sums a ratio or CUPED needs — so a report costs the same at a thousand units as at ten million.

Per-unit metric (revenue per visitor, conversion as a 0/1 metric, orders per visitor), arm means ``m = Σx/n``, sample
variances ``s² = (Σx² − n·m²)/(n − 1)``. Treatment minus control, Welch (1947) with the Welch–Satterthwaite degrees
of freedom (Satterthwaite 1946)::

    d = m_t − m_c,  se² = s_t²/n_t + s_c²/n_c,
    ν = se⁴ / ((s_t²/n_t)²/(n_t − 1) + (s_c²/n_c)²/(n_c − 1)),  d ± t_{1−α/2, ν}·se,  p = 2·(1 − T_ν(|d|/se))

Relative lift ``L = m_t/m_c − 1`` by the delta method (Deng, Knoblich and Lu, "Applying the Delta Method in Metric
Analytics", KDD 2018, §3), the arms independent::

    var(L) ≈ (1/m_c²)·s_t²/n_t + (m_t²/m_c⁴)·s_c²/n_c,  L ± z_{1−α/2}·√var(L)

Ratio metric ``R = Σy/Σx`` over units (average order value: y = a unit's revenue, x = its orders), by the delta method
on the unit means (ibid., §3.1; also Kohavi, Tang and Xu, "Trustworthy Online Controlled Experiments", 2020, ch. 18)::

    var(R) ≈ (1/(n·x̄²))·(s_y² − 2R·s_xy + R²·s_x²),  s_xy = (Σxy − n·x̄·ȳ)/(n − 1)

and the difference and relative lift of two arms' ratios as above with these variances and the normal quantile.

CUPED (Deng, Xu, Kohavi and Walker, "Improving the Sensitivity of Online Controlled Experiments by Utilizing
Pre-Experiment Data", WSDM 2013): with a covariate X observed before exposure (a unit's revenue before it), ``θ =
cov(X, Y)/var(X)`` pooled over the arms, each arm's mean becomes ``m_Y − θ·(m_X − X̄)`` (``X̄`` the pooled mean)
and its variance ``s_Y² + θ²·s_X² − 2θ·s_XY``; the difference of adjusted means is unbiased and its variance shrinks
by the squared correlation.

Sample ratio (Fabijan et al., "Diagnosing Sample Ratio Mismatch in Online Controlled Experiments", KDD 2019):
Pearson's χ² of the exposed units per arm against the configured weights, ``k − 1`` degrees of freedom; a mismatch
at ``p < 0.001`` makes the whole report untrustworthy.

Exceptions::

    LoyaltyError (program.py)
    └── StatsError        sums that cannot describe an arm (a count below 2, negative variance beyond rounding)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec
from scipy import stats

from loyalty_nudges.program import LoyaltyError

SRM_ALPHA = 0.001
"""The sample-ratio check flags a mismatch below this p-value."""


class StatsError(LoyaltyError):
    """Sums that cannot describe an arm."""


class Moments(msgspec.Struct, frozen=True, kw_only=True):
    """Running sums of one per-unit metric over an arm's units: ``n``, ``Σx``, ``Σx²``."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def moved(self, before: float, after: float, *, new_unit: bool = False) -> Moments:
        """The sums after one unit's value moved from ``before`` to ``after`` (``new_unit``: it joins the arm, its
        value until now being ``before``, usually 0). O(1), so an order can update them in its own store step."""
        return Moments(
            n=self.n + (1 if new_unit else 0),
            total=self.total + after - before,
            squares=self.squares + after * after - before * before,
        )

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """The sample variance (``n − 1`` in the denominator); 0 below two units."""
        if self.n < 2:
            return 0.0
        return max(0.0, (self.squares - self.n * self.mean**2) / (self.n - 1))


class Paired(msgspec.Struct, frozen=True, kw_only=True):
    """Running sums of two per-unit quantities and their products, over an arm's units: what a ratio metric
    (``y`` over ``x``, e.g. revenue over orders) or CUPED (``y`` the metric, ``x`` the covariate) needs."""

    x: Moments = msgspec.field(default_factory=Moments)
    y: Moments = msgspec.field(default_factory=Moments)
    products: float = 0.0
    """``Σxy``."""

    @property
    def n(self) -> int:
        return self.y.n

    @property
    def covariance(self) -> float:
        """The sample covariance of x and y; 0 below two units."""
        if self.n < 2:
            return 0.0
        return (self.products - self.n * self.x.mean * self.y.mean) / (self.n - 1)


class Estimate(msgspec.Struct, frozen=True, kw_only=True):
    """An arm's figure: its value and the variance of that value (not of the units)."""

    value: float
    variance: float


class Difference(msgspec.Struct, frozen=True, kw_only=True):
    """Treatment against control: the absolute difference and the relative lift, each with its interval, and the
    p-value of the absolute difference (two-sided)."""

    absolute: float
    absolute_low: float
    absolute_high: float
    relative: float
    relative_low: float
    relative_high: float
    p_value: float


def mean_of(moments: Moments) -> Estimate:
    """A per-unit mean and the variance of that mean."""
    _check(moments.n)
    return Estimate(value=moments.mean, variance=moments.variance / moments.n)


def ratio_of(paired: Paired) -> Estimate:
    """``Σy/Σx`` over the arm's units and its delta-method variance (see the module docstring)."""
    _check(paired.n)
    x_mean, y_mean = paired.x.mean, paired.y.mean
    if x_mean == 0:
        raise StatsError("a ratio metric needs units with a non-zero denominator")
    ratio = y_mean / x_mean
    spread = paired.y.variance - 2 * ratio * paired.covariance + ratio**2 * paired.x.variance
    return Estimate(value=ratio, variance=max(0.0, spread) / (paired.n * x_mean**2))


def cuped_means(arms: Sequence[Paired]) -> list[Estimate]:
    """Each arm's CUPED-adjusted mean of y with its variance, θ pooled over the arms (see the module docstring)."""
    n = sum(arm.n for arm in arms)
    for arm in arms:
        _check(arm.n)
    x_total = sum(arm.x.total for arm in arms)
    x_mean = x_total / n
    x_squares = sum(arm.x.squares for arm in arms)
    products = sum(arm.products for arm in arms)
    y_total = sum(arm.y.total for arm in arms)
    x_variance = (x_squares - n * x_mean**2) / (n - 1)
    covariance = (products - x_total * y_total / n) / (n - 1)
    theta = covariance / x_variance if x_variance > 0 else 0.0
    adjusted = []
    for arm in arms:
        spread = arm.y.variance + theta**2 * arm.x.variance - 2 * theta * arm.covariance
        adjusted.append(Estimate(value=arm.y.mean - theta * (arm.x.mean - x_mean), variance=max(0.0, spread) / arm.n))
    return adjusted


def welch(treatment: Moments, control: Moments, confidence: float = 0.95) -> Difference:
    """Treatment minus control of a per-unit mean: Welch's interval and p-value, the delta method's relative lift."""
    t, c = mean_of(treatment), mean_of(control)
    se2 = t.variance + c.variance
    if se2 == 0:
        return _exact(t, c)
    se = math.sqrt(se2)
    dof = se2**2 / (t.variance**2 / (treatment.n - 1) + c.variance**2 / (control.n - 1))
    quantile = float(stats.t.ppf(0.5 + confidence / 2, dof))
    p_value = float(2 * stats.t.sf(abs(t.value - c.value) / se, dof))
    return _difference(t, c, quantile * se, p_value, confidence)


def compare(treatment: Estimate, control: Estimate, confidence: float = 0.95) -> Difference:
    """Treatment minus control of two arms' estimates (ratio metrics, CUPED means), with the normal quantile."""
    se2 = treatment.variance + control.variance
    if se2 == 0:
        return _exact(treatment, control)
    se = math.sqrt(se2)
    quantile = float(stats.norm.ppf(0.5 + confidence / 2))
    p_value = float(2 * stats.norm.sf(abs(treatment.value - control.value) / se))
    return _difference(treatment, control, quantile * se, p_value, confidence)


def _difference(t: Estimate, c: Estimate, half_width: float, p_value: float, confidence: float) -> Difference:
    absolute = t.value - c.value
    if c.value == 0:
        relative = low = high = math.nan
    else:
        relative = t.value / c.value - 1
        variance = t.variance / c.value**2 + t.value**2 * c.variance / c.value**4
        spread = float(stats.norm.ppf(0.5 + confidence / 2)) * math.sqrt(variance)
        low, high = relative - spread, relative + spread
    return Difference(
        absolute=absolute,
        absolute_low=absolute - half_width,
        absolute_high=absolute + half_width,
        relative=relative,
        relative_low=low,
        relative_high=high,
        p_value=p_value,
    )


def _exact(t: Estimate, c: Estimate) -> Difference:
    """Two arms without spread: the difference is what it is."""
    absolute = t.value - c.value
    relative = t.value / c.value - 1 if c.value else math.nan
    return Difference(
        absolute=absolute, absolute_low=absolute, absolute_high=absolute, relative=relative, relative_low=relative,
        relative_high=relative, p_value=1.0 if absolute == 0 else 0.0,
    )  # fmt: skip


def sample_ratio(exposed: Sequence[int], weights: Sequence[float]) -> tuple[float, bool]:
    """The χ² p-value of the exposed units per arm against the weights, and whether it flags a mismatch."""
    total, weight = sum(exposed), sum(weights)
    if total == 0 or len(exposed) < 2:
        return 1.0, False
    expected = [total * w / weight for w in weights]
    p_value = float(stats.chisquare(list(exposed), expected).pvalue)
    return p_value, p_value < SRM_ALPHA


def _check(n: int) -> None:
    if n < 2:
        raise StatsError(f"an arm needs at least 2 units for an interval, it has {n}")
