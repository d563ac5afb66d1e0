"""Statistics and per-family results from real environment logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval

from antischeme.analysis import aggregate_rate, beta_rate, fisher_compare, wilson_rate
from antischeme.envs import family_task, get_family
from antischeme.runner import aggregate, family_result


def test_beta_rate_matches_the_closed_form() -> None:
    flat = beta_rate(0, 0)  # the prior itself
    assert flat.mean == pytest.approx(0.5) and flat.low == pytest.approx(0.025) and flat.high == pytest.approx(0.975)
    rate = beta_rate(3, 20)  # Beta(4, 18)
    assert rate.mean == pytest.approx(4 / 22)
    assert rate.low < 3 / 20 < rate.high
    with pytest.raises(ValueError):
        beta_rate(5, 3)


def test_wilson_and_fisher() -> None:
    wilson = wilson_rate(13, 100)
    assert wilson.low == pytest.approx(0.0777, abs=1e-3) and wilson.high == pytest.approx(0.2093, abs=1e-3)
    comparison = fisher_compare((13, 100), (24, 100))
    assert comparison.p_value == pytest.approx(0.0676, abs=1e-3)
    assert fisher_compare((0, 50), (20, 50)).p_value < 1e-6


def test_aggregate_is_the_mean_of_family_posteriors() -> None:
    single = beta_rate(5, 50)
    same = aggregate_rate([(5, 50)] * 4, draws=200_000)
    assert same.mean == pytest.approx(single.mean, abs=2e-3)
    assert same.high - same.low < single.high - single.low  # four families pin the mean down more
    mixed = aggregate_rate([(0, 20), (20, 20)], draws=200_000)
    assert mixed.mean == pytest.approx(0.5, abs=5e-3)
    with pytest.raises(ValueError):
        aggregate_rate([(3, 2)])


def test_aggregate_interval_matches_exact_beta_draws() -> None:
    """The quantile-table sampler agrees with numpy's exact Beta sampler to Monte-Carlo error."""
    import numpy as np

    counts = [(i % 7, 5 + 3 * i) for i in range(30)]
    fast = aggregate_rate(counts, draws=400_000, seed=1)
    rng = np.random.default_rng(2)
    exact = np.mean([rng.beta(k + 1, n - k + 1, size=400_000) for k, n in counts], axis=0)
    low, high = np.quantile(exact, [0.025, 0.975])
    assert fast.mean == pytest.approx(exact.mean(), abs=1e-3)
    assert fast.low == pytest.approx(low, abs=2e-3) and fast.high == pytest.approx(high, abs=2e-3)


def _log(name: str, policy: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    [log] = inspect_eval(family_task(get_family(name), policy=policy), model="none/none", display="none",
                         log_dir=str(tmp_path))
    return log


def test_family_results_count_every_rollout_and_aggregate_only_in_aggregate_families(tmp_path: Path) -> None:
    saint = family_result(_log("oversight_subversion", "saint", tmp_path))
    schemer = family_result(_log("goal_guarding", "schemer", tmp_path))
    game = family_result(_log("game_blotto", "schemer", tmp_path))
    assert saint is not None and schemer is not None and game is not None
    assert saint.counts["honest"] == 12 and saint.covert.k == 0 and saint.covert.n == 12
    assert schemer.counts["covert"] == schemer.covert.n == len(get_family("goal_guarding").variants())
    assert saint.engagement == 1.0
    overall, excluded = aggregate([saint, schemer, game])
    assert excluded == ["game_blotto"]  # games are reported, not aggregated
    assert overall is not None and overall.mean == pytest.approx((saint.covert.mean + schemer.covert.mean) / 2, abs=5e-3)
