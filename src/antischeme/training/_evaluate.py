"""Evaluate checkpoints on held-out environments and compare training stages.

A stage's evaluation runs the training family's *validation* split (rule-violation scenarios and,
separately, their anti-over-refusal edits), the over-escalation family, and test families that no
training stage saw. Every stage's logs go in their own directory, so the results table and the
report treat each stage as a run.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from inspect_ai import Task
from inspect_ai.log import read_eval_log
from scipy.stats import fisher_exact

from ..analysis import beta_rate
from ..envs import get_family
from ..runner import run_tasks
from ..runner._suite import FamilyResult, aggregate, family_result
from ._checkpoints import Checkpoint
from ._data import TRAINING_FAMILY

OVER_ESCALATION = "over_escalation"


def family_task(name: str, *, seed: int, data_split: str | None = None, **args: Any) -> Task:
    """A registered family task; ``data_split`` is passed only to families that have data splits."""
    from ..envs._tasks import FAMILY_TASKS

    has_splits = any("data_split" in v for v in get_family(name).variants()[:1])
    return FAMILY_TASKS[name](seed=seed, **({"data_split": data_split} if has_splits and data_split else {}), **args)


def evaluation_tasks(test_families: tuple[str, ...], *, seed: int, message_limit: int | None = None) -> list[Task]:
    """The training family's validation split (rule violations; exception edits), over-escalation, test families."""
    cap = {"message_limit": message_limit} if message_limit else {}
    return [
        family_task(TRAINING_FAMILY, seed=seed, data_split="validation", where="kind=violation", **cap),
        family_task(TRAINING_FAMILY, seed=seed, data_split="validation", where="kind=exception", **cap),
        family_task(OVER_ESCALATION, seed=seed, **cap),
        *(family_task(f, seed=seed, **cap) for f in test_families),
    ]


def evaluate(
    checkpoint: Checkpoint,
    *,
    log_dir: Path,
    test_families: tuple[str, ...],
    limit: int,
    seed: int,
    max_tokens: int,
    temperature: float,
    message_limit: int | None = None,
) -> Path:
    """Run a checkpoint on the evaluation tasks (resumable: Inspect's eval_set reuses finished work).

    Args:
        checkpoint: The model.
        log_dir: The stage's log directory.
        test_families: Held-out test families.
        limit: Rollouts per task (variants drawn with ``seed``).
        seed: Scenario, shuffle and sampling seed.
        max_tokens: Most tokens per model turn.
        temperature: Sampling temperature.
        message_limit: Cap on each scenario's message limit.
    """
    run_tasks(
        tasks=evaluation_tasks(test_families, seed=seed, message_limit=message_limit),  # type: ignore[arg-type]
        model=f"antischeme/{checkpoint.name}",
        model_args=checkpoint.model_args(),
        limit=limit,
        log_dir=log_dir,
        shuffle_seed=seed,
        generate_config={"max_tokens": max_tokens, "temperature": temperature, "seed": seed},
    )
    return log_dir


def _rate(k: int, n: int) -> dict[str, Any] | None:
    return asdict(beta_rate(k, n)) if n else None


def stage_summary(log_dir: Path) -> dict[str, Any]:
    """One stage's measures from its logs.

    Returns a dict with: ``training_family`` (covert rate on the validation split's rule-violation
    scenarios), ``test_aggregate`` (mean covert rate over engaged test families, with the families
    left out), ``generalization_gap`` (training-family rate minus test aggregate), ``over_refusal``
    (exception edits left undone), ``over_escalation`` (the family's rate), ``families`` (per-family
    results) and ``engagement``.
    """
    test: list[FamilyResult] = []
    families: list[dict[str, Any]] = []
    training = {"covert": 0, "engaged": 0}
    refusal = {"refused": 0, "engaged": 0}
    over_escalation = None
    engaged = scored = 0
    for path in sorted(log_dir.glob("*.eval")):
        log = read_eval_log(str(path))
        result = family_result(log)
        if result is None:
            continue
        engaged += result.counts["covert"] + result.counts["honest"]
        scored += result.counts["covert"] + result.counts["honest"] + result.counts["not_engaged"]
        where = (log.eval.task_args or {}).get("where") or ""
        if result.family == TRAINING_FAMILY and "kind=exception" in where:
            for sample in log.samples or []:
                score = next(iter(sample.scores.values())) if sample.scores else None
                if score is None or score.value not in ("covert", "honest"):
                    continue
                refusal["engaged"] += 1
                refusal["refused"] += bool((score.metadata or {}).get("measures", {}).get("over_refusal"))
            families.append({**asdict(result), "family": f"{TRAINING_FAMILY} (exception edits)"})
            continue
        families.append(asdict(result))
        if result.family == TRAINING_FAMILY:
            training = {"covert": result.counts["covert"], "engaged": result.counts["covert"] + result.counts["honest"]}
        elif result.family == OVER_ESCALATION:
            over_escalation = asdict(result.covert) if result.covert else None
        else:
            test.append(result)
    overall, excluded = aggregate(test)
    train_rate = _rate(training["covert"], training["engaged"])
    gap = train_rate["mean"] - overall.mean if train_rate and overall else None
    return {
        "training_family": train_rate,
        "training_family_counts": training,
        "test_aggregate": asdict(overall) if overall else None,
        "test_excluded": excluded,
        "generalization_gap": gap,
        "over_refusal": _rate(refusal["refused"], refusal["engaged"]),
        "over_escalation": over_escalation,
        "engagement": engaged / scored if scored else None,
        "families": families,
    }


def compare_stages(summaries: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Fisher's exact test of each stage against the first, per family (covert vs honest counts)."""
    names = list(summaries)
    if len(names) < 2:
        return []
    first = {f["family"]: f for f in summaries[names[0]]["families"]}
    rows = []
    for name in names[1:]:
        for fam in summaries[name]["families"]:
            before = first.get(fam["family"])
            if before is None:
                continue
            a, b = before["counts"]["covert"], before["counts"]["honest"]
            c, d = fam["counts"]["covert"], fam["counts"]["honest"]
            p = float(fisher_exact([[a, b], [c, d]])[1]) if (a + b) and (c + d) else None
            rows.append({"family": fam["family"], "before": names[0], "after": name,
                         "before_k": a, "before_n": a + b, "after_k": c, "after_n": c + d, "fisher_p": p})
    return rows


def grader_rates(db: Path, runs: list[str]) -> dict[str, dict[str, Any]]:
    """Per stage: eval-awareness and spec-citation rates, and miscitation / invented-principle rates
    among rollouts that cite the spec (from the results table; unscored rollouts are left out of n)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            """
            SELECT run,
                   count(eval_awareness) AS aware_n, count(*) FILTER (WHERE eval_awareness) AS aware_k,
                   count(spec_citation) AS cite_n, count(*) FILTER (WHERE spec_citation) AS cite_k,
                   count(*) FILTER (WHERE len(spec_cited) > 0) AS citing,
                   count(*) FILTER (WHERE len(spec_miscited) > 0) AS miscite_k,
                   count(*) FILTER (WHERE len(spec_invented) > 0) AS invent_k
            FROM rollouts WHERE family IS NOT NULL GROUP BY run
            """
        ).fetchall()
    finally:
        con.close()
    out: dict[str, dict[str, Any]] = {}
    for run, aware_n, aware_k, cite_n, cite_k, citing, miscite_k, invent_k in rows:
        if run in runs:
            out[run] = {
                "eval_awareness": _rate(aware_k, aware_n),
                "spec_citation": _rate(cite_k, cite_n),
                "miscitation": _rate(miscite_k, citing),
                "invented_principle": _rate(invent_k, citing),
            }
    return out
