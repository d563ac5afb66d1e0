"""What a grader reads and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

GRADERS = ("eval_awareness", "covert_reasoning", "spec_citation", "escalation", "confirmed_covert")
"""The CoT graders, in report order."""

Method = Literal["lexicon", "embedding", "judge"]
METHODS: tuple[Method, ...] = ("lexicon", "embedding", "judge")


@dataclass
class GradeItem:
    """One text to grade.

    Args:
        text: The reasoning (and visible text) of a rollout, or any snippet.
        id: The caller's id, passed through.
        detector_fired: Whether the environment's detector saw a covert action (needed by
            ``confirmed_covert``; None when unknown).
    """

    text: str
    id: str | None = None
    detector_fired: bool | None = None


@dataclass
class Grade:
    """A grader's output for one item.

    Args:
        label: True / False, or None when unscored (a failure is never a silent 0).
        score: Confidence in [0, 1] that the label is true (None when unscored).
        evidence: A quoted span of the text that shows the label ("" when none).
        highlights: Substrings of the text to highlight in the viewer.
        details: Grader-specific output (spec_citation: cited / miscited / invented principles).
        error: Why the item is unscored.
        method: The implementation that graded it (lexicon / embedding / judge:<model>).
    """

    label: bool | None
    score: float | None
    evidence: str = ""
    highlights: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    method: str = ""

    @classmethod
    def unscored(cls, error: str, *, method: str) -> "Grade":
        return cls(label=None, score=None, error=error, method=method)

    def as_json(self, id: str | None) -> dict[str, Any]:
        """The ``antischeme grade --json`` record."""
        record: dict[str, Any] = {"id": id, "label": self.label, "score": self.score, "evidence": self.evidence}
        if self.details:
            record.update(self.details)
        if self.error:
            record["error"] = self.error
        return record


def check_grader(name: str) -> str:
    """The grader name, or a clear error listing the graders."""
    if name not in GRADERS:
        from .._errors import AntischemeError

        raise AntischemeError(f"unknown grader {name!r}; graders: {', '.join(GRADERS)}")
    return name
