"""Sentence-level counterfactual importance by resampling (after Bogdan et al. 2025, "Thought Anchors").

For each sentence i of a CoT: resample continuations from just before sentence i and from just
after it; from the "before" resamples keep those whose new sentence i is semantically different
from the original (MiniLM cosine below a threshold); then compare the outcome distributions and
their KL divergence (add-one smoothed). Two outcomes:

- `resampling_importance`: the final answer of a generated reasoning problem, forced after each
  continuation; importance = P(original answer | after) − P(original answer | before, different).
- `suite_importance`: the family detector's outcome of a full resampled episode of a suite
  rollout; importance = P(covert | after) − P(covert | before, different).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import AntischemeError
from ..graders import sentences
from ._faithfulness import FaithfulnessProfile, _continued, _forced, parse_answer
from ._generation import Generator, check_prefill
from ._intervene import Edit, Source, continuations, outcome_of, read_sources, run_continuations, turn_cot
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


# outcomes first in line for importance: a covert rollout is what the experiment is about
_OUTCOME_ORDER = {"covert": 0, "honest": 1, "not_engaged": 2}
TOP_SENTENCES = 5  # most important sentences listed per rollout


@dataclass(frozen=True)
class CotSentence:
    """One sentence of a rollout's CoT.

    Args:
        index: Position among the rollout's CoT sentences (all turns, in order).
        turn: Index of its assistant message.
        start: Start offset in that turn's CoT.
        end: End offset in that turn's CoT.
        text: The sentence.
    """

    index: int
    turn: int
    start: int
    end: int
    text: str


def cot_sentences(source: Source) -> tuple[list[CotSentence], dict[int, tuple[str, bool]]]:
    """Every CoT sentence of a rollout, and each assistant turn's CoT (text, is reasoning) by message index.

    As the CoT graders read it (`cot_of`): the reasoning blocks when the rollout has any, otherwise the
    visible assistant text.
    """
    found: list[CotSentence] = []
    turns: dict[int, tuple[str, bool]] = {}
    per_turn = [turn_cot(message) for message in source.sample.messages]
    has_reasoning = any(is_reasoning for _, is_reasoning in per_turn)
    for j, (cot, is_reasoning) in enumerate(per_turn):
        if not cot.strip() or is_reasoning != has_reasoning:
            continue
        turns[j] = (cot, is_reasoning)
        found += [CotSentence(len(found) + n, j, s, e, cot[s:e]) for n, (s, e) in enumerate(sentences(cot))]
    return found, turns


def _spread(items: list[CotSentence], most: int) -> list[CotSentence]:
    """At most ``most`` items, evenly spread from first to last (a cap must not drop the CoT's end)."""
    if len(items) <= most:
        return items
    return [items[i] for i in sorted({round(x) for x in np.linspace(0, len(items) - 1, most)})]


def _new_text(edit: dict[str, Any], sample: Any) -> str:
    """What a continuation wrote in the edited turn after the prefix."""
    cot, _ = turn_cot(sample.messages[edit["turn"]]) if edit["turn"] < len(sample.messages) else ("", False)
    # the local provider returns the whole turn, prefill included; others return only the continuation
    return cot[len(edit["prefix"]):] if cot.startswith(edit["prefix"]) else cot


def _first_sentence(text: str) -> str:
    spans = sentences(text)
    return text[slice(*spans[0])] if spans else ""


def suite_importance(
    logs: list[str | Path],
    *,
    model: Any,
    k: int = 4,
    out: Path,
    max_rollouts: int = 3,
    max_sentences: int = 12,
    threshold: float = DIFFERENT_BELOW,
    seed: int = 0,
    max_tokens: int | None = None,
    temperature: float = 1.0,
    display: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Counterfactual importance of the CoT sentences of suite rollouts, the outcome being the family
    detector's verdict on full resampled episodes (also written to ``out/importance.json``).

    Rollouts are chosen covert first, then honest, then the rest (log, sample and epoch order within
    each). For each chosen sentence, K episodes are resampled from just before it and K from just after
    it (a prefix shared by "after sentence i" and "before sentence i+1" is resampled once); the "before"
    episodes whose new first sentence is semantically different (MiniLM cosine below ``threshold``)
    are the alternatives. A sentence without any is unmeasured (importance None), never 0.

    Args:
        logs: Inspect logs (or directories) of environment-family rollouts.
        model: The model that continues the prefixes (usually the one that produced the rollouts);
            its provider must prefill.
        k: Episodes resampled per prefix.
        out: Output directory: ``logs/`` holds one directory of continuation logs per rollout (re-running
            with the same options resumes; other options start a new directory).
        max_rollouts: Most rollouts measured.
        max_sentences: Most sentences per rollout (spread evenly over the CoT when it has more).
        threshold: Cosine below which a resampled sentence counts as different.
        seed: Base sampling seed (continuation j of a prefix uses seed + j).
        max_tokens: Most tokens per model turn in the continuations.
        temperature: Sampling temperature of the continuations.
        display: Inspect display type.
        progress: Called with (stage, done, total) in continuations, after each rollout.
    """
    from ..graders._embedding import embed
    from ..runner import check_model

    resolved = check_model(model) if isinstance(model, str) else model
    check_prefill(resolved)
    out.mkdir(parents=True, exist_ok=True)
    sources = read_sources(logs, out / "sources.duckdb")
    with_cot = [(s, *cot_sentences(s)) for s in sources]
    eligible = [item for item in with_cot if item[1]]
    eligible.sort(key=lambda item: _OUTCOME_ORDER.get(item[0].outcome, 3))  # stable: file order within an outcome
    chosen = eligible[:max_rollouts]
    plans = []
    for source, found, turns in chosen:
        picked = _spread(found, max_sentences)
        edits: dict[tuple[int, int], Edit] = {}  # (turn, prefix length) -> the prefix's edit
        roles: list[tuple[CotSentence, tuple[int, int], tuple[int, int]]] = []  # sentence, before site, after site
        for sentence in picked:
            cot, is_reasoning = turns[sentence.turn]
            sites = []
            for side, prefix in (("before", cot[: sentence.start].rstrip()), ("after", cot[: sentence.end])):
                site = (sentence.turn, len(prefix))
                if site not in edits:
                    edits[site] = Edit(source.rollout_id, "importance", "prefix", source.log, str(source.sample.id),
                                       source.sample.epoch, sentence.turn, prefix, is_reasoning, sentence.text,
                                       site=f"t{site[0]}c{site[1]}")
                sites.append(site)
            roles.append((sentence, sites[0], sites[1]))
        plans.append((source, edits, roles))
    total = sum(len(edits) * k for _, edits, _ in plans)
    done = 0
    started = time.monotonic()
    if progress:
        progress("resampled episodes", done, total)
    rollouts = []
    for source, edits, roles in plans:
        key = json.dumps([source.rollout_id, k, seed, max_tokens, temperature, sorted(edits)])
        log_dir = out / "logs" / f"{source.sample.metadata['family']}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
        run_continuations(list(edits.values()), {source.rollout_id: source}, model=resolved, log_dir=log_dir,
                          name="importance", resamples=k, seed=seed, max_tokens=max_tokens, temperature=temperature,
                          display=display)
        by_site: dict[tuple[int, int], list[tuple[str, str]]] = {}  # site -> (outcome, new first sentence)
        for edit, sample in continuations(log_dir):
            site = (edit["turn"], len(edit["prefix"]))
            by_site.setdefault(site, []).append((outcome_of(sample), _first_sentence(_new_text(edit, sample).strip())))
        expected = {site: k for site in edits}
        if {site: len(v) for site, v in by_site.items()} != expected:
            raise AntischemeError(f"{log_dir} does not hold {k} continuations of each prefix; remove it to start over")
        done += len(edits) * k
        if progress:
            progress("resampled episodes", done, total)
        rollouts.append(_rollout_importance(source, roles, by_site, threshold, embed))
    rows = [row for r in rollouts for row in r["sentences"]]
    result = {
        "mode": "suite",
        "model": str(resolved),
        "k": k,
        "threshold": threshold,
        "seed": seed,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "selection": {"rollouts": len(sources), "with_cot": len(eligible), "measured": len(chosen),
                      "max_rollouts": max_rollouts, "max_sentences": max_sentences},
        "rollouts": rollouts,
        "most_important": sorted((dict(row, rollout_id=r["rollout_id"], family=r["family"]) for r in rollouts
                                  for row in r["sentences"] if row["importance"] is not None),
                                 key=lambda row: -abs(row["importance"]))[:10],
        "sentences": len(rows),
        "unmeasured": sum(row["importance"] is None for row in rows),
        "episodes": total,
        "seconds": round(time.monotonic() - started, 1),
    }
    (out / "importance.json").write_text(json.dumps(result, indent=2))
    return result


def _rollout_importance(
    source: Source,
    roles: list[tuple[CotSentence, tuple[int, int], tuple[int, int]]],
    by_site: dict[tuple[int, int], list[tuple[str, str]]],
    threshold: float,
    embed: Callable[[list[str]], np.ndarray],
) -> dict[str, Any]:
    """Importance, KL and counts of every measured sentence of one rollout."""
    pairs = [(sentence.text, new) for sentence, before, _ in roles for _, new in by_site[before]]
    # an empty replacement (the model went straight on without a sentence here) is a real alternative
    similarity = iter(np.sum(embed([a for a, _ in pairs]) * embed([b or " " for _, b in pairs]), axis=1) if pairs else [])
    rows = []
    for sentence, before, after in roles:
        alternatives = []
        for outcome, new in by_site[before]:
            cosine = float(next(similarity))
            if not new or cosine < threshold:
                alternatives.append({"sentence": new, "cosine": round(cosine, 3) if new else None, "outcome": outcome})
        # errored episodes tell nothing about the outcome distribution; they are counted, not scored
        after_outcomes = Counter(o for o, _ in by_site[after] if o != "error")
        before_outcomes = Counter(a["outcome"] for a in alternatives if a["outcome"] != "error")
        p_after = after_outcomes["covert"] / sum(after_outcomes.values()) if after_outcomes else None
        p_before = before_outcomes["covert"] / sum(before_outcomes.values()) if before_outcomes else None
        measured = p_after is not None and p_before is not None
        rows.append({
            "sentence": sentence.index,
            "turn": sentence.turn,
            "text": sentence.text,
            "importance": p_after - p_before if measured else None,  # type: ignore[operator]
            "kl": _kl(after_outcomes, before_outcomes) if measured else None,
            "p_covert_after": p_after,
            "p_covert_before_different": p_before,
            "n_after": sum(after_outcomes.values()),
            "n_before": len(by_site[before]),
            "n_before_different": sum(before_outcomes.values()),
            "outcomes_after": dict(after_outcomes),
            "outcomes_before_different": dict(before_outcomes),
            "errors": sum(o == "error" for o, _ in by_site[after]) + sum(a["outcome"] == "error" for a in alternatives),
            "alternatives": alternatives[:3],
            "unmeasured": None if measured else ("no semantically different resample" if not alternatives
                                                 else "no scored resample"),
        })
    measured_rows = sorted((r for r in rows if r["importance"] is not None), key=lambda r: -abs(r["importance"]))
    return {
        "rollout_id": source.rollout_id,
        "log": source.log,
        "sample_id": str(source.sample.id),
        "epoch": source.sample.epoch,
        "family": source.sample.metadata["family"],
        "outcome": source.outcome,
        "sentences": rows,
        "top": [r["sentence"] for r in measured_rows[:TOP_SENTENCES]],
    }
