"""Running tasks through Inspect and summarising their logs."""

from ._results import log_summary, write_results
from ._run import run_tasks

__all__ = ["log_summary", "run_tasks", "write_results"]
