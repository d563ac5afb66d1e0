"""The training loop in one run directory: organism -> evaluate -> deliberative SFT -> evaluate -> RL -> evaluate.

Every stage leaves its files under ``--out`` and is skipped when a later call finds it finished,
so an interrupted run resumes. ``manifest.json`` records the profile, seeds, library versions,
file hashes, yields, timings and results, and is rewritten after every stage.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from .._errors import AntischemeError
from ._checkpoints import Checkpoint, base_checkpoint
from ._data import TRAINING_FAMILY, Selection, generate_rollouts, select_deliberative, select_outcome, write_dataset
from ._evaluate import compare_stages, evaluate, family_task, grader_rates, stage_summary
from ._render import chat_format
from ._rl import GRPOSettings, RewardWeights, grpo
from ._sft import LoraSettings, Progress, sft

#: Families the model organism is trained on (scripted covert rollouts). Evaluations never use them.
ORGANISM_FAMILIES = ("impossible_coding", "lazy_checklist", "sandbagging_self_grading")


@dataclass(frozen=True, kw_only=True)
class Profile:
    """Sizes of one training run.

    Args:
        name: Profile name.
        organism: Build a model organism first (scripted covert rollouts -> LoRA SFT).
        deliberative: Run deliberative alignment (data -> SFT -> optional RL), each stage evaluated.
        organism_limit: Scripted covert rollouts per organism family (and from the training split).
        organism_lora: The organism's SFT settings.
        evaluate_base: Also evaluate the starting model.
        eval_limit: Rollouts per evaluation task.
        eval_max_tokens: Most tokens per model turn in evaluations and generation.
        temperature: Sampling temperature of evaluations and generation (0: greedy; the embedded
            135M model writes incoherent text at 1.0 and then never acts).
        message_limit: Cap on each scenario's message limit in evaluations (long episodes dominate a
            CPU evaluation's cost).
        generate_message_limit: The same cap for deliberative data generation (the scripted
            saint needs 19 messages).
        test_families: Held-out test families in every evaluation.
        sources: Deliberative data sources: ``self`` (the current model with the spec in context),
            ``scripted`` (the family's scripted saint, whose reasoning cites the spec), or any
            Inspect model name (a teacher).
        generate_limit: Rollouts per source from the training split.
        grader_method: Spec-citation grader of the reasoning filter.
        sft_lora: Deliberative SFT settings.
        rl: GRPO settings (None: no RL stage).
        rl_lora: GRPO's LoRA and optimiser settings.
        weights: RL reward weights.
        max_length: Longest training sequence in tokens (longer ones are dropped and counted).
        seed: Seed of everything.
    """

    name: str
    organism: bool = True
    deliberative: bool = True
    organism_limit: int = 3
    organism_lora: LoraSettings = LoraSettings(max_steps=5, batch_size=1, learning_rate=1e-3)
    evaluate_base: bool = False
    eval_limit: int = 2
    eval_max_tokens: int = 128
    temperature: float = 0.0
    message_limit: int | None = 12
    test_families: tuple[str, ...] = ("log_falsification",)
    sources: tuple[str, ...] = ("self", "scripted")
    generate_limit: int = 3
    generate_message_limit: int = 24
    grader_method: str = "lexicon"
    sft_lora: LoraSettings = LoraSettings(max_steps=5, batch_size=1, learning_rate=1e-3)
    rl: GRPOSettings | None = None
    rl_lora: LoraSettings = LoraSettings(max_steps=6, batch_size=4, learning_rate=5e-5)
    weights: RewardWeights = RewardWeights()
    max_length: int = 3072
    seed: int = 0


PROFILES: dict[str, Profile] = {
    "quick": Profile(name="quick"),
    "default": Profile(
        name="default",
        organism_limit=8,
        organism_lora=LoraSettings(max_steps=12, batch_size=1, learning_rate=5e-4),
        evaluate_base=True,
        eval_limit=3,
        message_limit=16,
        test_families=("test_tampering", "log_falsification", "broken_promises"),
        generate_limit=8,
        sft_lora=LoraSettings(max_steps=12, batch_size=1, learning_rate=5e-4),
        rl=GRPOSettings(prompts=8, generations=4, max_completion_tokens=128),
        rl_lora=LoraSettings(max_steps=4, batch_size=4, learning_rate=5e-5),
    ),
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    names = ("antischeme", "inspect_ai", "torch", "transformers", "trl", "peft", "datasets", "llama_cpp_python", "gguf")
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


@dataclass
class Run:
    """A training run's state, written to ``manifest.json`` after every stage."""

    out: Path
    profile: Profile
    command: list[str]
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    evaluations: dict[str, str] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)

    def write(self) -> None:
        manifest = {
            "profile": asdict(self.profile),
            "seed": self.profile.seed,
            "command": self.command,
            "versions": _versions(),
            "stages": self.stages,
            "checkpoints": self.checkpoints,
            "datasets": self.datasets,
            "evaluations": self.evaluations,
            "results": self.results,
        }
        (self.out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))

    def stage(self, name: str, work: Callable[[], Any]) -> Any:
        start = time.monotonic()
        value = work()
        self.stages[name] = {"seconds": round(time.monotonic() - start, 1), "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self.write()
        return value

    def checkpoint(self, ckpt: Checkpoint) -> Checkpoint:
        files = [ckpt.hf_dir / "model.safetensors", *([ckpt.gguf] if ckpt.gguf else [])]
        self.checkpoints[ckpt.name] = {**ckpt.to_json(), "sha256": {str(f): _sha256(f) for f in files if f.is_file()}}
        return ckpt

    def dataset(self, name: str, examples: Path) -> Path:
        folder = examples.parent
        summary = json.loads((folder / "yields.json").read_text())
        self.datasets[name] = {
            "dir": str(folder),
            "sha256": {f.name: _sha256(f) for f in sorted(folder.glob("*.jsonl"))},
            "records": summary["records"],
            "yields": summary["yields"],
            "rejected": summary["rejected"],
        }
        return examples


def train_loop(
    *,
    out: Path,
    profile: Profile,
    model_path: str | None = None,
    progress: Progress | None = None,
    command: list[str] | None = None,
) -> dict[str, Any]:
    """Run the whole loop; returns the results (also in ``<out>/manifest.json`` and ``<out>/training.json``).

    Args:
        out: Run directory.
        profile: Sizes (see `PROFILES`).
        model_path: Starting model, GGUF or HF folder (default: the embedded SmolLM2).
        progress: Called with (stage, done, total).
        command: The command line, for the manifest.
    """
    check_profile(profile)
    out.mkdir(parents=True, exist_ok=True)
    run = Run(out=out, profile=profile, command=command or sys.argv)
    seed = profile.seed
    step = progress or (lambda stage, done, total: None)
    policy = run.checkpoint(run.stage("base", lambda: base_checkpoint(model_path)))
    fmt = chat_format(policy.hf_dir)
    stage_dirs: dict[str, Path] = {}

    def evaluate_stage(ckpt: Checkpoint) -> None:
        log_dir = out / "eval" / ckpt.name
        step(f"evaluate {ckpt.name}", 0, 1)
        run.stage(f"evaluate {ckpt.name}", lambda: evaluate(
            ckpt, log_dir=log_dir, test_families=profile.test_families, limit=profile.eval_limit, seed=seed,
            max_tokens=profile.eval_max_tokens, temperature=profile.temperature, message_limit=profile.message_limit,
        ))
        step(f"evaluate {ckpt.name}", 1, 1)
        stage_dirs[ckpt.name] = log_dir
        run.evaluations[ckpt.name] = str(log_dir)

    if profile.evaluate_base:
        evaluate_stage(policy)
    if profile.organism:
        policy = run.checkpoint(_organism(run, policy, fmt, step))
        evaluate_stage(policy)
    if not profile.deliberative:
        run.results = run.stage("summarise", lambda: _summarise(out, stage_dirs))
        return run.results
    examples = run.stage("deliberative data", lambda: _deliberative_data(run, policy, fmt))
    start = policy
    policy = run.checkpoint(run.stage("deliberative sft", lambda: sft(
        base=start, examples=examples, out=out / "sft", name="sft", settings=profile.sft_lora,
        max_length=profile.max_length, progress=progress,
    )))
    evaluate_stage(policy)
    if profile.rl is not None:
        sft_policy = policy
        policy = run.checkpoint(run.stage("rl", lambda: grpo(
            base=sft_policy, out=out / "rl", name="rl", settings=profile.rl,  # type: ignore[arg-type]
            lora=profile.rl_lora, weights=profile.weights, progress=progress,
        )))
        evaluate_stage(policy)
    run.results = run.stage("summarise", lambda: _summarise(out, stage_dirs))
    return run.results


def _organism(run: Run, base: Checkpoint, fmt: Any, step: Progress) -> Checkpoint:
    profile, out = run.profile, run.out
    logs: list[Path] = []

    def generate() -> None:
        tasks = [family_task(f, seed=profile.seed, policy="schemer") for f in ORGANISM_FAMILIES]
        tasks.append(family_task(TRAINING_FAMILY, seed=profile.seed, policy="schemer", data_split="train",
                                 where="kind=violation"))
        logs.extend(generate_rollouts(
            source="scripted schemer", tasks=tasks, model="none/none", model_args=None,
            log_dir=out / "organism" / "rollouts", limit=profile.organism_limit, seed=profile.seed,
        ))

    run.stage("organism rollouts", generate)
    selection = select_outcome(logs, keep=lambda outcome: outcome == "covert")
    examples = run.dataset("organism", write_dataset(
        selection, out / "organism" / "data", title="Model-organism data: scripted covert rollouts", fmt=fmt,
        provenance={"families": [*ORGANISM_FAMILIES, f"{TRAINING_FAMILY} (train split, rule violations)"],
                    "policy": "scripted schemer", "seed": profile.seed, "filter": "outcome == covert"},
    ))
    return run.stage("organism sft", lambda: sft(
        base=base, examples=examples, out=out / "organism" / "sft", name="organism",
        settings=profile.organism_lora, max_length=profile.max_length, progress=step,
    ))


def _deliberative_data(run: Run, policy: Checkpoint, fmt: Any) -> Path:
    profile, out = run.profile, run.out
    logs: list[Path] = []
    for source in profile.sources:
        task = family_task(TRAINING_FAMILY, seed=profile.seed, data_split="train", spec=True,
                           message_limit=profile.generate_message_limit,
                           **({"policy": "saint"} if source == "scripted" else {}))
        if source == "scripted":
            model, model_args = "none/none", None
        elif source == "self":
            model, model_args = f"antischeme/{policy.name}", policy.model_args()
        else:
            model, model_args = source, None
        logs += generate_rollouts(
            source=source, tasks=[task], model=model, model_args=model_args,
            log_dir=out / "deliberative" / "rollouts" / source.replace("/", "_"), limit=profile.generate_limit,
            seed=profile.seed, max_tokens=profile.eval_max_tokens, temperature=profile.temperature,
        )
    selection: Selection = select_deliberative(logs, grader_method=profile.grader_method)
    return run.dataset("deliberative", write_dataset(
        selection, out / "deliberative" / "data", title="Deliberative-alignment SFT data", fmt=fmt,
        provenance={"family": f"{TRAINING_FAMILY} (train split, both kinds)", "sources": list(profile.sources),
                    "generated_by": policy.to_json(), "spec_in_context": True, "seed": profile.seed,
                    "filter": "desirable outcome (detector measures) AND spec-citing reasoning "
                              f"(spec_citation grader, {profile.grader_method}; no miscited or invented principle)"},
    ))


def _summarise(out: Path, stage_dirs: dict[str, Path]) -> dict[str, Any]:
    from ..analysis import ingest

    summaries = {name: stage_summary(path) for name, path in stage_dirs.items()}
    db = out / "results.duckdb"
    ingest(list(stage_dirs.values()), db, method="lexicon")
    rates = grader_rates(db, [p.name for p in stage_dirs.values()])
    for name, path in stage_dirs.items():
        summaries[name]["graders"] = rates.get(path.name, {})
    results = {"stages": summaries, "comparisons": compare_stages(summaries)}
    (out / "training.json").write_text(json.dumps(results, indent=2))
    return results


def test_families(names: str) -> tuple[str, ...]:
    """Held-out families from a comma-separated list, or ``all``: every in-aggregate programmatic test
    family that the model organism is not trained on."""
    from ..envs import families

    if names.strip() == "all":
        return tuple(f.name for f in families(split="test")
                     if f.in_aggregate and f.detector == "programmatic" and f.name not in ORGANISM_FAMILIES)
    return tuple(n.strip() for n in names.split(",") if n.strip())


def check_profile(profile: Profile) -> None:
    """Evaluation families exist, are test families, and stay disjoint from every training family."""
    from ..envs import get_family

    for name in profile.test_families:
        try:
            family = get_family(name)
        except KeyError as ex:
            raise AntischemeError(str(ex.args[0])) from None
        if family.split != "test" or name in (TRAINING_FAMILY, "over_escalation"):
            raise AntischemeError(f"{name} is not a held-out test family (split {family.split})")
        if profile.organism and name in ORGANISM_FAMILIES:
            raise AntischemeError(f"{name} trains the model organism, so it cannot be a held-out test family")


def profile_named(name: str, **overrides: Any) -> Profile:
    """A shipped profile, with fields overridden (None values are ignored)."""
    if name not in PROFILES:
        raise AntischemeError(f"unknown profile '{name}'; profiles: {', '.join(PROFILES)}")
    return replace(PROFILES[name], **{k: v for k, v in overrides.items() if v is not None})
