"""Results table (DuckDB), statistics and CoT legibility over rollout logs."""

from ._ingest import IngestStats, connect, find_logs, ingest
from ._ingest import export as export_table
from ._legibility import (
    LegibilitySummary,
    RepetitionLoop,
    UnusualWord,
    function_word_ratio,
    legibility_summary,
    repetition_loops,
    unusual_words,
)
from ._schema import DDL
from ._stats import Comparison, Rate, aggregate_rate, beta_rate, fisher_compare, wilson_rate

__all__ = [
    "DDL",
    "Comparison",
    "IngestStats",
    "LegibilitySummary",
    "Rate",
    "RepetitionLoop",
    "UnusualWord",
    "aggregate_rate",
    "beta_rate",
    "connect",
    "export_table",
    "find_logs",
    "fisher_compare",
    "function_word_ratio",
    "ingest",
    "legibility_summary",
    "repetition_loops",
    "unusual_words",
    "wilson_rate",
]
