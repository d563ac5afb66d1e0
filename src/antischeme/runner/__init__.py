"""Running tasks through Inspect and summarising their logs."""

from ._results import log_summary, write_results
from ._run import check_model, run_tasks
from ._suite import FamilyResult, aggregate, family_result, results_json

__all__ = ["FamilyResult", "aggregate", "check_model", "family_result", "log_summary", "results_json", "run_tasks", "write_results"]
