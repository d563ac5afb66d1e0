"""One summary row per Inspect log (the input of the results table)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog


def log_summary(log: EvalLog) -> dict[str, Any]:
    """Task, model, status, sample and error counts, and every scorer's metrics of a log."""
    scores: dict[str, dict[str, float]] = {}
    if log.results is not None:
        for score in log.results.scores:
            scores[score.name] = {name: metric.value for name, metric in score.metrics.items()}
    samples = log.samples or []
    return {
        "task": log.eval.task,
        "model": log.eval.model,
        "status": log.status,
        "samples": log.results.completed_samples if log.results else len(samples),
        "errors": sum(1 for s in samples if s.error is not None),
        "scores": scores,
        "error": log.error.message if log.error else None,
        "log": log.location.removeprefix("file://"),
    }


def write_results(results: dict[str, Any], path: Path) -> None:
    """Write the results file as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
