"""One entry point for every grader and implementation."""

from __future__ import annotations

import asyncio

from inspect_ai.model import Model

from .._errors import AntischemeError
from ._types import GRADERS, METHODS, Grade, GradeItem, check_grader


def grade(
    items: list[GradeItem],
    *,
    grader: str,
    method: str = "embedding",
    judge_model: str | Model | None = None,
    max_connections: int = 8,
    judge_max_tokens: int | None = None,
) -> list[Grade]:
    """Grade texts with one grader.

    Args:
        items: Texts (with ids and, for confirmed_covert, the detector's verdict).
        grader: One of GRADERS.
        method: "lexicon", "embedding" (both offline) or "judge" (needs judge_model).
        judge_model: Any Inspect model, for method="judge".
        max_connections: Concurrent judge requests.
        judge_max_tokens: Most tokens per judge answer (None: the provider's default).
    """
    check_grader(grader)
    if method not in METHODS:
        raise AntischemeError(f"unknown grading method {method!r}; methods: {', '.join(METHODS)}")
    if method == "lexicon":
        from ._lexicon import lexicon_grade

        return [lexicon_grade(grader, item) for item in items]
    if method == "embedding":
        from ._embedding import embedding_grade

        return embedding_grade(grader, items)
    if judge_model is None:
        raise AntischemeError("the judge method needs a judge model (--judge-model)")
    from ._judge import judge_grade

    return asyncio.run(
        judge_grade(grader, items, model=judge_model, max_connections=max_connections, max_tokens=judge_max_tokens)
    )


def grade_all(
    items: list[GradeItem],
    *,
    graders: tuple[str, ...] = GRADERS,
    method: str = "embedding",
    judge_model: str | Model | None = None,
    max_connections: int = 8,
    judge_max_tokens: int | None = None,
) -> dict[str, list[Grade]]:
    """Several graders over the same items (options as in `grade`). A judge grades them all in one
    event loop, so API clients bound to a loop are reused safely."""
    if method != "judge":
        return {g: grade(items, grader=g, method=method) for g in graders}
    if judge_model is None:
        raise AntischemeError("the judge method needs a judge model (--judge-model)")
    from ._judge import judge_grade

    for g in graders:
        check_grader(g)

    async def every_grader() -> list[list[Grade]]:
        return [
            await judge_grade(g, items, model=judge_model, max_connections=max_connections, max_tokens=judge_max_tokens)
            for g in graders
        ]

    return dict(zip(graders, asyncio.run(every_grader())))


def method_name(method: str, judge_model: str | Model | None) -> str:
    return f"judge:{judge_model}" if method == "judge" else method


__all__ = ["Grade", "GradeItem", "grade", "grade_all"]
