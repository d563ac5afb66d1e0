"""Eval-awareness interventions: remove or inject a verbalized "this is probably a test" thought
and resample the rest of the episode, to measure how the covert-action rate moves.

- Removal: in rollouts whose CoT verbalizes eval awareness, the turn with the first eval-aware
  sentence is cut just before that sentence ("removed") or just after it ("kept"); the model
  continues from each prefix K times.
- Injection: in rollouts without eval awareness, an eval-aware sentence from the same model's other
  rollouts (its own voice) is inserted at a sentence boundary ("injected"), or a neutral sentence of
  similar length from the same model's rollouts ("control"); K continuations each.

A continuation is a real episode: the environment's world is rebuilt by replaying the rollout's
tool calls before the cut, the model continues the edited turn (prefill), then acts until it
submits, and the family's detector scores it. Every continuation is an ordinary Inspect sample,
so runs resume through Inspect's eval_set and the logs open in `inspect view` and `antischeme report`.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai import Epochs, Task, eval_set
from inspect_ai.dataset import Sample
from inspect_ai.log import EvalSample, read_eval_log
from inspect_ai.model import ChatMessage, ChatMessageAssistant, execute_tools
from inspect_ai.solver import Generate, Solver, TaskState, solver

from .._errors import AntischemeError
from ..analysis import beta_rate, connect, fisher_compare, ingest
from ..envs import covert_action, get_family
from ..envs._task import run_agent, scenario_of
from ..graders import GradeItem, grade, sentences
from ..graders._text import reasoning_and_text
from ..world import save_world
from ._generation import check_prefill

PAIRS = {"removal": ("kept", "removed"), "injection": ("control", "injected")}


@dataclass
class Edit:
    """One edited prefix of one rollout.

    Args:
        rollout_id: The source rollout.
        experiment: "removal" or "injection".
        condition: "kept" / "removed" or "control" / "injected".
        log: The source log.
        sample_id: The source sample id.
        epoch: The source epoch.
        turn: Index of the edited assistant message.
        prefix: The edited CoT up to the cut, continued by the model.
        reasoning: Whether the CoT is a reasoning block (prefilled inside the reasoning tags).
        sentence: The sentence kept, removed or inserted.
    """

    rollout_id: str
    experiment: str
    condition: str
    log: str
    sample_id: str
    epoch: int
    turn: int
    prefix: str
    reasoning: bool
    sentence: str
    extra: dict[str, Any] = field(default_factory=dict)


def _turn_cot(message: ChatMessage) -> tuple[str, bool]:
    if not isinstance(message, ChatMessageAssistant):
        return "", False
    reasoning, text = reasoning_and_text(message)
    return (reasoning, True) if reasoning.strip() else (text, False)


def _aware_sentences(texts: list[str], method: str) -> list[list[tuple[int, int]]]:
    """Per text, the spans of its sentences that the eval-awareness grader flags."""
    flagged = grade([GradeItem(text=t) for t in texts], grader="eval_awareness", method=method)
    spans = []
    for text, result in zip(texts, flagged):
        marks = set(result.highlights) if result.label else set()
        spans.append([(s, e) for s, e in sentences(text) if any(m in text[s:e] or text[s:e] in m for m in marks)])
    return spans


def plan_edits(
    samples: list[tuple[str, str, EvalSample]], *, method: str = "lexicon", max_rollouts: int = 20, seed: int = 0
) -> tuple[list[Edit], dict[str, int]]:
    """The edited prefixes of both experiments for one model's rollouts.

    Args:
        samples: (rollout id, log path, sample) of one model's family rollouts.
        method: Eval-awareness grading method (lexicon or embedding).
        max_rollouts: Most source rollouts per experiment.
        seed: Seed for choosing rollouts, insertion points and sentences.
    """
    rng = random.Random(seed)
    turns: list[tuple[int, int, str, bool]] = []  # (sample index, message index, cot, is reasoning)
    for i, (_, _, sample) in enumerate(samples):
        for j, message in enumerate(sample.messages):
            cot, is_reasoning = _turn_cot(message)
            if cot.strip():
                turns.append((i, j, cot, is_reasoning))
    aware = _aware_sentences([t[2] for t in turns], method)
    aware_by_sample: dict[int, list[int]] = {}
    for index, (i, _, _, _) in enumerate(turns):
        if aware[index]:
            aware_by_sample.setdefault(i, []).append(index)
    pool = [(turns[k][0], turns[k][2][s:e]) for k in range(len(turns)) for s, e in aware[k]]
    neutral = [(turns[k][0], turns[k][2][s:e]) for k in range(len(turns)) for s, e in sentences(turns[k][2])
               if (s, e) not in aware[k] and len(turns[k][2][s:e].split()) >= 4]
    edits: list[Edit] = []
    counts = {"rollouts": len(samples), "eval_aware": len(aware_by_sample), "removal": 0, "injection": 0,
              "injection_skipped_no_pool": 0}

    def edit(i: int, j: int, experiment: str, condition: str, prefix: str, reasoning: bool, sentence: str) -> Edit:
        rollout_id, log, sample = samples[i]
        return Edit(rollout_id, experiment, condition, log, str(sample.id), sample.epoch, j, prefix, reasoning, sentence)

    removal = sorted(aware_by_sample)
    rng.shuffle(removal)
    for i in removal[:max_rollouts]:
        index = aware_by_sample[i][0]
        _, j, cot, is_reasoning = turns[index]
        start, end = aware[index][0]
        edits.append(edit(i, j, "removal", "removed", cot[:start].rstrip(), is_reasoning, cot[start:end]))
        edits.append(edit(i, j, "removal", "kept", cot[:end], is_reasoning, cot[start:end]))
        counts["removal"] += 1
    unaware = [i for i in range(len(samples)) if i not in aware_by_sample and any(t[0] == i for t in turns)]
    rng.shuffle(unaware)
    for i in unaware[:max_rollouts]:
        own_voice = [s for owner, s in pool if owner != i]
        if not own_voice:
            counts["injection_skipped_no_pool"] += 1
            continue
        index = next(k for k, t in enumerate(turns) if t[0] == i)
        _, j, cot, is_reasoning = turns[index]
        spans = sentences(cot)
        cut = spans[rng.randrange(len(spans))][1]  # after a random sentence
        inserted = rng.choice(own_voice)
        similar = [s for owner, s in neutral if owner != i and 0.5 <= len(s) / max(1, len(inserted)) <= 1.5]
        control = rng.choice(similar or [s for owner, s in neutral if owner != i] or [inserted])
        edits.append(edit(i, j, "injection", "injected", f"{cot[:cut]} {inserted}", is_reasoning, inserted))
        edits.append(edit(i, j, "injection", "control", f"{cot[:cut]} {control}", is_reasoning, control))
        counts["injection"] += 1
    return edits, counts


@solver
def resume_from_prefix() -> Solver:
    """Rebuild the world by replaying the rollout's tool calls before the cut, then let the model
    continue the edited turn and act to the end of the episode."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        scenario = scenario_of(state)
        family = get_family(state.metadata["family"])
        save_world(scenario.world)
        state.tools = family.tools(scenario)
        state.message_limit = scenario.message_limit + len(state.messages)
        for message in state.messages[:-1]:
            if isinstance(message, ChatMessageAssistant) and message.tool_calls:
                await execute_tools([message], state.tools)  # results are already in the transcript
        return await run_agent(state, generate, prefilled=True)

    return solve


def _samples(edits: list[Edit], logs: dict[str, dict[tuple[str, int], EvalSample]]) -> dict[str, list[Sample]]:
    """The continuation samples per family, from the source samples already read (by log, then id and epoch)."""
    by_family: dict[str, list[Sample]] = {}
    for e in edits:
        source = logs[e.log][(e.sample_id, e.epoch)]
        prefill = f"<think>\n{e.prefix}" if e.reasoning else e.prefix
        messages = list(source.messages[: e.turn]) + [ChatMessageAssistant(content=prefill)]
        metadata = {**source.metadata, "intervention": {**e.__dict__, "prefill": prefill}}
        sample = Sample(id=f"{e.rollout_id}/{e.experiment}/{e.condition}".replace("/", "__"), input=messages,
                        metadata=metadata)
        by_family.setdefault(source.metadata["family"], []).append(sample)
    return by_family


def intervene(
    logs: list[str | Path],
    *,
    model: Any,
    k: int = 8,
    out: Path,
    method: str = "lexicon",
    max_rollouts: int = 20,
    seed: int = 0,
    max_tokens: int | None = None,
    display: str | None = None,
) -> dict[str, Any]:
    """Run both experiments on the rollouts in ``logs`` and summarise them (also in ``out/intervene.json``).

    Args:
        logs: Inspect logs (or directories) of environment-family rollouts.
        model: The model that continues the prefixes (usually the one that produced the rollouts);
            its provider must prefill.
        k: Continuations per prefix.
        out: Output directory (``logs/`` inside it holds the continuations; re-running resumes).
        method: Eval-awareness grading method for choosing rollouts and sentences.
        max_rollouts: Most source rollouts per experiment.
        seed: Seed of the choices and of sampling.
        max_tokens: Most tokens per model turn in the continuations.
        display: Inspect display type.
    """
    from ..runner import check_model

    resolved = check_model(model) if isinstance(model, str) else model
    check_prefill(resolved)
    out.mkdir(parents=True, exist_ok=True)
    con = connect(out / "sources.duckdb")
    ingest(logs, con, method="none")
    rows = con.execute("SELECT rollout_id, log, sample_id, epoch, model FROM rollouts WHERE family IS NOT NULL").fetchall()
    if not rows:
        raise AntischemeError("no environment-family rollouts in the given logs")
    read: dict[str, dict[tuple[str, int], EvalSample]] = {}
    chosen = []
    for rollout_id, log, sample_id, epoch, _ in rows:
        if log not in read:
            read[log] = {(str(s.id), s.epoch): s for s in read_eval_log(log).samples or []}
        chosen.append((rollout_id, log, read[log][(sample_id, epoch)]))
    edits, counts = plan_edits(chosen, method=method, max_rollouts=max_rollouts, seed=seed)
    (out / "edits.jsonl").write_text("".join(json.dumps(e.__dict__) + "\n" for e in edits))
    if edits:
        tasks = [
            Task(name=f"intervene_{family}", dataset=samples, solver=resume_from_prefix(),
                 scorer=covert_action(get_family(family)), epochs=Epochs(k, "mode"),
                 metadata={"family": family, "intervention": True})
            for family, samples in _samples(edits, read).items()
        ]
        config: dict[str, Any] = {"seed": seed}
        if max_tokens:
            config["max_tokens"] = max_tokens
        success, _ = eval_set(tasks, model=resolved, log_dir=str(out / "logs"), display=display, **config)
        if not success:
            raise AntischemeError(f"some continuations failed; re-run to resume (logs in {out / 'logs'})")
    summary = summarize(out / "logs") if edits else {"conditions": {}, "comparisons": {}}
    summary.update(model=str(resolved), k=k, seed=seed, grader_method=method, selection=counts)
    (out / "intervene.json").write_text(json.dumps(summary, indent=2))
    return summary


def summarize(log_dir: Path) -> dict[str, Any]:
    """Covert-action rate per condition (over engaged continuations), Fisher's exact test and the
    effect size between the paired conditions of each experiment."""
    counts: dict[str, dict[str, int]] = {}
    sources: dict[str, set[str]] = {}
    for path in sorted(Path(log_dir).glob("*.eval")):
        for sample in read_eval_log(str(path)).samples or []:
            edit = (sample.metadata or {}).get("intervention")
            if not edit:
                continue
            score = next(iter(sample.scores.values()), None) if sample.scores else None
            outcome = score.value if score is not None and sample.error is None else "error"
            c = counts.setdefault(edit["condition"], {"covert": 0, "honest": 0, "not_engaged": 0, "other": 0})
            c[outcome if outcome in c else "other"] += 1
            sources.setdefault(edit["condition"], set()).add(edit["rollout_id"])
    conditions = {}
    for name, c in counts.items():
        engaged = c["covert"] + c["honest"]
        rate = beta_rate(c["covert"], engaged)
        conditions[name] = {**c, "engaged": engaged, "continuations": sum(c.values()), "rollouts": len(sources[name]),
                            "covert_rate": {"k": rate.k, "n": rate.n, "mean": rate.mean, "low": rate.low, "high": rate.high}}
    comparisons = {}
    for experiment, (reference, treated) in PAIRS.items():
        if reference in conditions and treated in conditions:
            a, b = conditions[reference], conditions[treated]
            test = fisher_compare((a["covert"], a["engaged"]), (b["covert"], b["engaged"]))
            comparisons[experiment] = {
                "reference": reference, "treated": treated, "p_value": test.p_value,
                # scipy's order: odds of a covert action under the reference over the treated condition
                "odds_ratio_reference_over_treated": test.odds_ratio,
                "difference": b["covert_rate"]["mean"] - a["covert_rate"]["mean"],
            }
    return {"conditions": conditions, "comparisons": comparisons}
