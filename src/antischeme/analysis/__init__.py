"""Statistics and results tables over rollout logs."""

from ._stats import Comparison, Rate, aggregate_rate, beta_rate, fisher_compare, wilson_rate

__all__ = ["Comparison", "Rate", "aggregate_rate", "beta_rate", "fisher_compare", "wilson_rate"]
