"""Running tasks through Inspect and summarising their logs."""

from ._results import log_summary, write_results
from ._run import run_tasks
from ._suite import FamilyResult, aggregate, family_result, results_json

__all__ = ["FamilyResult", "aggregate", "family_result", "log_summary", "results_json", "run_tasks", "write_results"]
