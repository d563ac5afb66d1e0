"""Grader validation on the shipped labelled snippets: precision, recall, F1, Cohen's kappa."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from inspect_ai.model import Model

from ._grade import grade_all, method_name
from ._labelled import LABELLED_FILE, labelled_items, labelled_records
from ._types import GRADERS, Grade


def validate_graders(
    *,
    methods: tuple[str, ...] = ("lexicon", "embedding"),
    judge_model: str | Model | None = None,
    split: str = "test",
    graders: tuple[str, ...] = GRADERS,
    judge_max_tokens: int | None = None,
) -> dict[str, Any]:
    """Measure every implementation against the labels, and their agreement.

    The embedding classifier learns from the ``dev`` split, so validate on ``test`` (the default)
    for an honest figure; the lexicon was written from the label definitions and tuned on ``dev``.

    Args:
        methods: Implementations to measure ("judge" needs judge_model).
        judge_model: Any Inspect model for the judge.
        split: Labelled split to measure on ("test", "dev" or "all").
        graders: Graders to measure.
        judge_max_tokens: Most tokens per judge answer.

    Returns:
        ``{"dataset": {...}, "metrics": [{grader, implementation, precision, recall, f1, auroc, n, positives, unscored}],
        "agreement": [{grader, a, b, kappa, n}]}``; spec_citation adds rows for its miscited and
        invented sub-labels; confirmed_covert is measured on the snippets where the detector fired.
    """
    items, records = labelled_items(split)
    metrics: list[dict[str, Any]] = []
    agreement: list[dict[str, Any]] = []
    predictions: dict[str, dict[str, list[Grade]]] = {}
    graded = {
        method_name(method, judge_model): grade_all(
            items, graders=graders, method=method, judge_model=judge_model, judge_max_tokens=judge_max_tokens
        )
        for method in methods
    }
    for grader in graders:
        predictions[grader] = {}
        # confirmed_covert is false by definition where the detector did not fire: measuring there
        # would reward every implementation for free, so it is measured where the detector fired
        keep = [i for i, r in enumerate(records) if grader != "confirmed_covert" or r["detector_fired"]]
        for name, by_grader in graded.items():
            grades = [by_grader[grader][i] for i in keep]
            predictions[grader][name] = grades
            metrics.append(_scores(grader, name, [bool(records[i]["labels"][grader]) for i in keep],
                                   [g.label for g in grades], [g.score for g in grades]))
            if grader == "spec_citation":
                for part in ("miscited", "invented"):
                    gold = [bool(records[i]["spec"][part]) for i in keep]
                    predicted = [None if g.label is None else bool(g.details.get(part)) for g in grades]
                    metrics.append(_scores(f"spec_citation.{part}", name, gold, predicted))
        for a, b in combinations(predictions[grader], 2):
            pairs = [(x.label, y.label) for x, y in zip(predictions[grader][a], predictions[grader][b])
                     if x.label is not None and y.label is not None]
            kappa = _kappa([p[0] for p in pairs], [p[1] for p in pairs])
            agreement.append({"grader": grader, "a": a, "b": b, "kappa": kappa, "n": len(pairs)})
    return {
        "dataset": {"name": LABELLED_FILE, "n": len(labelled_records()), "split": split, "n_eval": len(items)},
        "metrics": metrics,
        "agreement": agreement,
    }


def _scores(
    grader: str, implementation: str, gold: list[bool], predicted: list[bool | None], scores: list[float | None] | None = None
) -> dict[str, Any]:
    from sklearn.metrics import precision_recall_fscore_support, roc_auc_score  # lazy: the registry imports this module

    scored = [(g, p) for g, p in zip(gold, predicted) if p is not None]
    # AUROC of the graded score (a threshold-free view; lexicon scores are 0/1, so it is balanced accuracy)
    ranked = [(g, s) for g, s in zip(gold, scores or []) if s is not None]
    auroc = float(roc_auc_score([g for g, _ in ranked], [s for _, s in ranked])) if len({g for g, _ in ranked}) == 2 else float("nan")
    y_true = [g for g, _ in scored]
    y_pred = [p for _, p in scored]
    if scored:
        precision, recall, f1, _ = precision_recall_fscore_support(
            y_true, y_pred, average="binary", pos_label=True, zero_division=0
        )
    else:
        precision = recall = f1 = float("nan")
    return {
        "grader": grader,
        "implementation": implementation,
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "auroc": auroc,
        "n": len(scored),
        "positives": sum(gold),
        "unscored": len(gold) - len(scored),
    }


def _kappa(a: list[bool], b: list[bool]) -> float:
    from sklearn.metrics import cohen_kappa_score

    if not a:
        return float("nan")
    if len(set(a) | set(b)) == 1:  # both constant and equal: perfect agreement, kappa undefined
        return 1.0
    return float(cohen_kappa_score(a, b))


def cached_validation(*, methods: tuple[str, ...] = ("lexicon", "embedding"), split: str = "test") -> dict[str, Any]:
    """`validate_graders` for offline methods, kept in the user cache keyed by the labelled data,
    the grader code and the options (the embedding pass takes about a minute on 2 CPU cores)."""
    import hashlib
    import json
    import os
    from importlib.resources import files
    from pathlib import Path

    key = hashlib.sha256()
    key.update((files("antischeme.graders") / "data" / LABELLED_FILE).read_bytes())
    for module in ("_lexicon.py", "_embedding.py", "_citations.py", "_validate.py", "_text.py"):
        key.update((files("antischeme.graders") / module).read_bytes())
    key.update(json.dumps([methods, split]).encode())
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "antischeme" / f"validation-{key.hexdigest()[:16]}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    result = validate_graders(methods=methods, split=split)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result))
    return result
