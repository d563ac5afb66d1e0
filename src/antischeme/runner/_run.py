"""Run tasks with Inspect's eval_set: its concurrency, retries and resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai import Task, eval_set
from inspect_ai.model import get_model

from .._errors import AntischemeError
from dataclasses import asdict

from ._results import log_summary, write_results
from ._suite import family_result, results_json


def run_tasks(
    *,
    tasks: list[str | Task],
    model: str,
    model_args: dict[str, Any] | None = None,
    limit: int | None = None,
    epochs: int = 1,
    log_dir: Path,
    generate_config: dict[str, Any] | None = None,
    display: str | None = None,
    judge_model: str | None = None,
    shuffle_seed: int | None = None,
    task_args: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run tasks on one model and write ``results.json`` beside the logs.

    A second call with the same arguments and log_dir resumes: finished logs and samples are
    reused by Inspect's eval_set, not re-run.

    Args:
        tasks: Registered task names (e.g. ``antischeme/tool_use_check``) or tasks made by registered task
            functions (their arguments are recorded, so resume works).
        model: Any Inspect model name.
        model_args: Provider args (``-M``).
        limit: Samples per task (None: all).
        epochs: Rollouts per sample.
        log_dir: Directory for logs and results.json.
        generate_config: GenerateConfig fields (None values are dropped).
        display: Inspect display type (default: Inspect's choice).
        judge_model: Model for the "judge" role (judge-detector families).
        shuffle_seed: Shuffle samples with this seed before ``limit`` (varied variants per family).
        task_args: Arguments for every task (e.g. ``seed``, ``spec``, ``data_split``, ``policy``).

    Returns:
        One summary per task log (see `log_summary`); environment families add a ``family``
        entry with outcome counts, the covert rate with its interval and the engagement rate.
    """
    config = {k: v for k, v in (generate_config or {}).items() if v is not None}
    resolved = check_model(model, model_args or {}, config)
    roles = {"judge": check_model(judge_model, {}, {})} if judge_model else None
    success, logs = eval_set(
        tasks=tasks,
        model=resolved,
        log_dir=str(log_dir),
        limit=limit,
        epochs=epochs,
        display=display,  # type: ignore[arg-type]
        retry_attempts=1,
        # families have few rollouts each: run several at once so the local engine's batch fills
        max_tasks=min(len(tasks), 8),
        model_roles=roles,
        sample_shuffle=shuffle_seed,
        task_args=task_args or {},
        **config,
    )
    rows = []
    for log in logs:
        row = log_summary(log)
        family = family_result(log)
        if family is not None:
            row["family"] = asdict(family)
        rows.append(row)
    families = [r for r in (family_result(log) for log in logs) if r is not None]
    write_results({"tasks": rows, **(results_json(families) if families else {})}, Path(log_dir) / "results.json")
    return rows


def check_model(model: str, model_args: dict[str, Any] | None = None, config: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    """Resolve the model up front so a bad name or arg fails before any task starts."""
    from inspect_ai.model import GenerateConfig

    try:
        return get_model(model, config=GenerateConfig(**(config or {})), **(model_args or {}))
    except AntischemeError:
        raise
    except Exception as ex:  # Inspect's own errors for unknown providers, missing keys, ...
        raise AntischemeError(f"cannot use model '{model}': {ex}") from None
