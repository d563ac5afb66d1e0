"""CoT graders: eval awareness, covert reasoning, spec citation, escalation, confirmed covert action.

Each has three implementations: ``lexicon`` (regular expressions), ``embedding`` (a classifier on
MiniLM sentence embeddings, offline) and ``judge`` (any Inspect model). `validate_graders` measures
them on the shipped labelled snippets.
"""

from ._grade import grade, grade_all, method_name
from ._input import read_grade_input
from ._labelled import labelled_items, labelled_records
from ._scorer import cot_grader
from ._text import cot_of, sentences, transcript_messages
from ._types import GRADERS, METHODS, Grade, GradeItem
from ._validate import cached_validation, validate_graders

__all__ = [
    "GRADERS",
    "METHODS",
    "Grade",
    "cached_validation",
    "read_grade_input",
    "GradeItem",
    "cot_grader",
    "cot_of",
    "grade",
    "grade_all",
    "labelled_items",
    "labelled_records",
    "method_name",
    "sentences",
    "transcript_messages",
    "validate_graders",
]
