"""Sentence-level counterfactual importance by resampling (after Bogdan et al. 2025, "Thought Anchors").

For each sentence i of a CoT: resample continuations from just before sentence i and from just
after it; from the "before" resamples keep those whose new sentence i is semantically different
from the original (MiniLM cosine below a threshold); then compare the outcome distributions:
importance = P(original outcome | after) − P(original outcome | before, different), and the KL
divergence between the two distributions (add-one smoothed). The outcome here is the final answer
of a generated reasoning problem, forced after each continuation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..graders import sentences
from ._faithfulness import FaithfulnessProfile, _continued, _forced, parse_answer
from ._generation import Generator
from ._problems import reasoning_problems

DIFFERENT_BELOW = 0.8  # cosine: a resampled sentence this dissimilar counts as a real alternative


def _kl(p: Counter, q: Counter) -> float:
    support = set(p) | set(q)
    p_total, q_total = sum(p.values()) + len(support), sum(q.values()) + len(support)
    return float(sum(((p[a] + 1) / p_total) * math.log(((p[a] + 1) / p_total) / ((q[a] + 1) / q_total)) for a in support))


def resampling_importance(
    model: Any,
    *,
    problems: int = 3,
    resamples: int = 4,
    cot_tokens: int = 96,
    continuation_tokens: int = 48,
    threshold: float = DIFFERENT_BELOW,
    seed: int = 0,
    out: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Counterfactual importance of every CoT sentence on generated reasoning problems.

    Args:
        model: A model whose provider can prefill.
        problems: Problems (one greedy CoT each).
        resamples: Continuations per side (before / after) of each sentence.
        cot_tokens: Most tokens of the greedy CoT.
        continuation_tokens: Most tokens of a resampled continuation.
        threshold: Cosine below which a resampled sentence counts as different.
        seed: Seed of the problems; resample j uses seed j.
        out: Directory for the request cache (re-runs resume) and results.
        progress: Called with (stage, done, total).
    """
    from ..graders._embedding import embed

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    generator = Generator(model, cache=out / "requests.jsonl" if out else None)
    sizes = FaithfulnessProfile(problems=problems, cot_tokens=cot_tokens)
    items = reasoning_problems(problems, seed=seed)

    def stage(name: str) -> None:
        generator.progress = (lambda done, total: progress(name, done, total)) if progress else None

    stage("greedy CoT")
    cots = [c.text.split("</think>")[0].strip() for c in generator.run([_continued(p, "", cot_tokens) for p in items])]
    stage("final answers")
    finals = [parse_answer(c.text, p) for c, p in zip(generator.run([_forced(p, cot, sizes) for p, cot in zip(items, cots)]), items)]

    plans = []  # (problem, sentence index, side, resample, prefix)
    for n, cot in enumerate(cots):
        spans = sentences(cot)
        for i, (start, end) in enumerate(spans):
            for j in range(resamples):
                plans.append((n, i, "before", j, cot[:start].rstrip()))
                plans.append((n, i, "after", j, cot[:end]))
    stage("resampling")
    continuations = generator.run([
        replace(_continued(items[n], prefix, continuation_tokens), seed=j, temperature=1.0) for n, _, _, j, prefix in plans
    ])
    stage("forced answers")
    answers = generator.run([
        _forced(items[n], f"{prefix} {c.text.split('</think>')[0].strip()}".strip(), sizes)
        for (n, _, _, _, prefix), c in zip(plans, continuations)
    ])
    stage("embedding")
    firsts = [(sentences(c.text) or [(0, len(c.text))])[0] for c in continuations]
    replacements = [c.text[s:e] for c, (s, e) in zip(continuations, firsts)]
    originals = [cots[n][slice(*sentences(cots[n])[i])] for n, i, _, _, _ in plans]
    similarity = np.sum(embed(replacements) * embed(originals), axis=1) if plans else np.zeros(0)

    rows: list[dict[str, Any]] = []
    by_sentence: dict[tuple[int, int], dict[str, list[str | None]]] = {}
    for (n, i, side, _, _), answer, sim in zip(plans, answers, similarity):
        outcome = parse_answer(answer.text, items[n])
        bucket = by_sentence.setdefault((n, i), {"before": [], "after": []})
        if side == "after" or sim < threshold:
            bucket[side].append(outcome)
    for (n, i), bucket in sorted(by_sentence.items()):
        before, after = Counter(bucket["before"]), Counter(bucket["after"])
        p_after = after[finals[n]] / sum(after.values()) if after else None
        p_before = before[finals[n]] / sum(before.values()) if before else None
        rows.append({
            "problem": items[n].id,
            "sentence": i,
            "text": cots[n][slice(*sentences(cots[n])[i])],
            "importance": None if p_after is None or p_before is None else p_after - p_before,
            "kl": _kl(after, before) if before and after else None,
            "resamples_after": sum(after.values()),
            "resamples_before_different": sum(before.values()),
        })
    ranked = sorted((r for r in rows if r["importance"] is not None), key=lambda r: -abs(r["importance"]))
    result = {
        "model": str(generator.model),
        "problems": problems,
        "resamples": resamples,
        "threshold": threshold,
        "seed": seed,
        "sentences": rows,
        "most_important": ranked[:10],
        "unmeasured": sum(r["importance"] is None for r in rows),
        "requests": generator.requested,
        "requests_from_cache": generator.cached_hits,
    }
    if out is not None:
        import json

        (out / "importance.json").write_text(json.dumps(result, indent=2))
    return result
