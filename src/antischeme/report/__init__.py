"""The HTML report: rates with intervals, before/after comparisons, CoT grader rates, legibility, grader
validation, and a transcript viewer, written as one self-contained file from the results database."""

from ._report import write_report

__all__ = ["write_report"]
