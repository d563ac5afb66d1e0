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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai import Epochs, Task, eval_set
from inspect_ai.dataset import Sample
from inspect_ai.log import EvalSample, read_eval_log
from inspect_ai.model import ChatMessage, ChatMessageAssistant, Model, execute_tools
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
        extra: Experiment-specific details, kept in the continuations' metadata.
        site: Names the cut within the rollout when one rollout has several prefixes of the same
            condition (it becomes part of the continuation's sample id).
        close: Close the reasoning after the prefix, so the model acts at once (early answering).
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
    site: str = ""
    close: bool = False

    @property
    def prefill(self) -> str:
        """The start of the assistant turn that the model continues."""
        if not self.reasoning:
            return self.prefix
        return f"<think>\n{self.prefix}\n</think>\n" if self.close else f"<think>\n{self.prefix}"

    @property
    def continuation_id(self) -> str:
        """The continuation's sample id (unique per rollout, experiment, condition and site)."""
        parts = [self.rollout_id, self.experiment, self.condition] + ([self.site] if self.site else [])
        return "/".join(parts).replace("/", "__")


@dataclass(frozen=True)
class Source:
    """A finished family rollout read from its log.

    Args:
        rollout_id: ``<eval_id>/<sample_id>/<epoch>``, as in the results database.
        log: The log's path.
        sample: The sample.
    """

    rollout_id: str
    log: str
    sample: EvalSample

    @property
    def outcome(self) -> str:
        return outcome_of(self.sample)


def outcome_of(sample: EvalSample) -> str:
    """The detector's outcome of a scored family sample ("error" when the sample failed or has no score)."""
    score = next(iter(sample.scores.values()), None) if sample.scores else None
    return str(score.value) if score is not None and sample.error is None else "error"


def turn_cot(message: ChatMessage) -> tuple[str, bool]:
    """A turn's CoT: its reasoning when it has any (True), else its visible text (False)."""
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
            cot, is_reasoning = turn_cot(message)
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
def resume_from_prefix(seed: int | None = None) -> Solver:
    """Rebuild the world by replaying the rollout's tool calls before the cut, then let the model
    continue the edited turn and act to the end of the episode.

    Args:
        seed: Base sampling seed. Each continuation of one prefix gets its own seed (base + epoch - 1
            + resample index): with one seed for all, a seeded sampler would draw K identical episodes.
    """

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state = await _replayed(state)
        if seed is None:
            return await run_agent(state, generate, prefilled=True)
        resample = int((state.metadata.get("intervention") or {}).get("extra", {}).get("resample", 0))
        own_seed = seed + state.epoch - 1 + resample

        async def seeded(state: TaskState, tool_calls: Any = "loop", **config: Any) -> TaskState:
            return await generate(state, tool_calls=tool_calls, **{"seed": own_seed, **config})

        return await run_agent(state, seeded, prefilled=True)  # type: ignore[arg-type]

    return solve


@solver
def next_turn_from_prefix() -> Solver:
    """Rebuild the world as `resume_from_prefix` does, then generate only the edited turn (no tool
    is run): the model's next action after the prefix."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state = await _replayed(state)
        prefill_at = len(state.messages) - 1
        state = await generate(state, tool_calls="none")
        state.messages.pop(prefill_at)  # the provider returns the whole turn, prefill included
        return state

    return solve


async def _replayed(state: TaskState) -> TaskState:
    """The scenario's world and tools, with the rollout's tool calls before the cut replayed on it."""
    scenario = scenario_of(state)
    family = get_family(state.metadata["family"])
    save_world(scenario.world)
    state.tools = family.tools(scenario)
    state.message_limit = scenario.message_limit + len(state.messages)
    for message in state.messages[:-1]:
        if isinstance(message, ChatMessageAssistant) and message.tool_calls:
            await execute_tools([message], state.tools)  # results are already in the transcript
    return state


def continuation_samples(edits: list[Edit], sources: dict[str, Source], *, resamples: int = 1) -> dict[str, list[Sample]]:
    """The continuation samples per family: the source's messages before the edited turn, then the
    edited turn as a prefill. With ``resamples`` > 1, each prefix becomes that many samples in a row
    (ids ending in ``__r<j>``), so the continuations of one prefix are dispatched, and batched, together.

    Args:
        edits: The edited prefixes.
        sources: The source rollouts by rollout id.
        resamples: Samples per prefix (1: use Inspect epochs for repeats instead).
    """
    by_family: dict[str, list[Sample]] = {}
    for e in edits:
        source = sources[e.rollout_id].sample
        messages = list(source.messages[: e.turn]) + [ChatMessageAssistant(content=e.prefill)]
        for j in range(resamples):
            record = {**e.__dict__, "extra": {**e.extra, "resample": j} if resamples > 1 else e.extra,
                      "prefill": e.prefill}
            sample = Sample(id=e.continuation_id + (f"__r{j}" if resamples > 1 else ""), input=messages,
                            metadata={**source.metadata, "intervention": record})
            by_family.setdefault(source.metadata["family"], []).append(sample)
    return by_family


def run_continuations(
    edits: list[Edit],
    sources: dict[str, Source],
    *,
    model: Model,
    log_dir: Path,
    name: str,
    k: int = 1,
    resamples: int = 1,
    act: bool = True,
    seed: int = 0,
    max_tokens: int | None = None,
    temperature: float | None = None,
    display: str | None = None,
) -> None:
    """Run the continuations of ``edits`` as Inspect samples (one task per family) with eval_set, so an
    interrupted run resumes without redoing finished continuations.

    Args:
        edits: The edited prefixes.
        sources: The source rollouts by rollout id.
        model: The model that continues the prefixes (its provider must prefill).
        log_dir: Where the continuation logs go.
        name: Task name prefix (``<name>_<family>``).
        k: Inspect epochs per sample.
        resamples: Samples per prefix (see `continuation_samples`).
        act: Play the episode to the end and score it (False: only the edited turn is generated).
        seed: Base sampling seed.
        max_tokens: Most tokens per model turn.
        temperature: Sampling temperature (None: the provider's default).
        display: Inspect display type.
    """
    tasks = [
        Task(name=f"{name}_{family}", dataset=samples, solver=resume_from_prefix(seed) if act else next_turn_from_prefix(),
             scorer=covert_action(get_family(family)) if act else None, epochs=Epochs(k, "mode") if k > 1 else None,
             metadata={"family": family, "intervention": True})
        for family, samples in continuation_samples(edits, sources, resamples=resamples).items()
    ]
    if not tasks:
        return
    config: dict[str, Any] = {"seed": seed}
    if max_tokens:
        config["max_tokens"] = max_tokens
    if temperature is not None:
        config["temperature"] = temperature
    success, _ = eval_set(tasks, model=model, log_dir=str(log_dir), display=display, **config)
    if not success:
        raise AntischemeError(f"some continuations failed; re-run to resume (logs in {log_dir})")


def continuations(log_dir: Path) -> Iterator[tuple[dict[str, Any], EvalSample]]:
    """(edit record, sample) of every continuation logged under ``log_dir``, each once: where a retried
    run left an older log beside the newer one, the newer log's sample (names start with the time) wins."""
    latest: dict[tuple[str, int], tuple[dict[str, Any], EvalSample]] = {}
    for path in sorted(Path(log_dir).rglob("*.eval"), key=lambda p: p.name):
        for sample in read_eval_log(str(path)).samples or []:
            edit = (sample.metadata or {}).get("intervention")
            if edit:
                latest[(str(sample.id), sample.epoch)] = (edit, sample)
    yield from latest.values()


def read_sources(logs: list[str | Path], db: Path) -> list[Source]:
    """The environment-family rollouts in ``logs`` (files or directories), in log, sample and epoch order.

    Args:
        logs: Inspect logs or directories of them.
        db: A results database for the listing (created or updated; no CoT grading).
    """
    con = connect(db)
    ingest(logs, con, method="none")
    rows = con.execute("SELECT rollout_id, log, sample_id, epoch FROM rollouts WHERE family IS NOT NULL "
                       "ORDER BY log, sample_id, epoch").fetchall()
    if not rows:
        raise AntischemeError("no environment-family rollouts in the given logs (run a suite with `antischeme run` first)")
    read: dict[str, dict[tuple[str, int], EvalSample]] = {}
    sources = []
    for rollout_id, log, sample_id, epoch in rows:
        if log not in read:
            read[log] = {(str(s.id), s.epoch): s for s in read_eval_log(log).samples or []}
        sources.append(Source(rollout_id, log, read[log][(sample_id, epoch)]))
    return sources


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
    sources = read_sources(logs, out / "sources.duckdb")
    chosen = [(s.rollout_id, s.log, s.sample) for s in sources]
    edits, counts = plan_edits(chosen, method=method, max_rollouts=max_rollouts, seed=seed)
    (out / "edits.jsonl").write_text("".join(json.dumps(e.__dict__) + "\n" for e in edits))
    run_continuations(edits, {s.rollout_id: s for s in sources}, model=resolved, log_dir=out / "logs", name="intervene",
                      k=k, seed=seed, max_tokens=max_tokens, display=display)
    summary = summarize(out / "logs") if edits else {"conditions": {}, "comparisons": {}}
    summary.update(model=str(resolved), k=k, seed=seed, grader_method=method, selection=counts)
    (out / "intervene.json").write_text(json.dumps(summary, indent=2))
    return summary


def summarize(log_dir: Path) -> dict[str, Any]:
    """Covert-action rate per condition (over engaged continuations), Fisher's exact test and the
    effect size between the paired conditions of each experiment."""
    counts: dict[str, dict[str, int]] = {}
    sources: dict[str, set[str]] = {}
    for edit, sample in continuations(log_dir):
        outcome = outcome_of(sample)
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
