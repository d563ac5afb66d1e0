"""LoRA supervised fine-tuning with TRL + PEFT, saved as an adapter, a merged checkpoint and a GGUF."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from .._errors import AntischemeError
from ._checkpoints import Checkpoint, export_gguf

#: (stage, done, total) -> None, for progress bars
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, kw_only=True)
class LoraSettings:
    """LoRA and optimiser settings shared by SFT and RL.

    Args:
        rank: LoRA rank.
        alpha: LoRA alpha.
        dropout: LoRA dropout.
        target_modules: Modules adapted (``all-linear``: every linear layer but the output head).
        learning_rate: Peak learning rate.
        batch_size: Examples per optimiser step.
        max_steps: Optimiser steps.
        seed: Seed for initialisation and data order.
        bf16: bfloat16 autocast (several times faster on CPUs with AVX512-BF16 or AMX).
    """

    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str = "all-linear"
    learning_rate: float = 2e-4
    batch_size: int = 4
    max_steps: int = 20
    seed: int = 0
    bf16: bool = False


def _progress_callback(stage: str, progress: Progress | None):  # type: ignore[no-untyped-def]
    from transformers import TrainerCallback

    class StepProgress(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            if progress is not None:
                progress(stage, state.global_step, state.max_steps)

    return StepProgress()


def trainer_options(settings: LoraSettings, out: Path) -> dict[str, Any]:
    """Trainer options shared by SFT and GRPO: CPU, log every step, no intermediate checkpoints."""
    return {
        "output_dir": str(out / "trainer"),
        "max_steps": settings.max_steps,
        "per_device_train_batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": [],
        "use_cpu": True,
        "bf16": settings.bf16,
        "seed": settings.seed,
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
    }


def quiet(trainer: Any) -> Any:
    """Drop the trainer's console printer (losses go to ``train_log.json``; progress to our bar)."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    return trainer


def lora_config(settings: LoraSettings):  # type: ignore[no-untyped-def]
    from peft import LoraConfig

    return LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=settings.target_modules,
        task_type="CAUSAL_LM",
    )


def finished(out: Path, settings: dict[str, Any]) -> Checkpoint | None:
    """The checkpoint a previous run with the same settings left in ``out`` (resume), else None."""
    marker = out / "checkpoint.json"
    if not marker.is_file():
        return None
    saved = json.loads(marker.read_text())
    if saved.get("settings") != settings:
        return None
    ckpt = saved["checkpoint"]
    return Checkpoint(name=ckpt["name"], hf_dir=Path(ckpt["hf_dir"]), gguf=Path(ckpt["gguf"]) if ckpt["gguf"] else None)


def save_trained(
    trainer: Any, *, name: str, base: Checkpoint, out: Path, settings: dict[str, Any], stats: dict[str, Any]
) -> Checkpoint:
    """Save the LoRA adapter, the merged checkpoint, a GGUF copy (when the base has one) and the log.

    ``settings`` identify the run (a later run with the same settings reuses it); ``stats`` are
    recorded beside them.
    """
    trainer.model.save_pretrained(str(out / "adapter"))
    merged = trainer.model.merge_and_unload()
    merged.save_pretrained(str(out / "merged"))
    trainer.processing_class.save_pretrained(str(out / "merged"))
    gguf = export_gguf(out / "merged", out / f"{name}.gguf", template=base.gguf) if base.gguf else None
    (out / "train_log.json").write_text(json.dumps(trainer.state.log_history, indent=1))
    checkpoint = Checkpoint(name=name, hf_dir=out / "merged", gguf=gguf)
    marker = {"settings": settings, "stats": stats, "checkpoint": checkpoint.to_json()}
    (out / "checkpoint.json").write_text(json.dumps(marker, indent=1))
    return checkpoint


def load_for_training(base: Checkpoint):  # type: ignore[no-untyped-def]
    import warnings

    import datasets
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # our own progress bar reports the steps; the libraries' bars and deprecation notes are noise here
    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
    warnings.filterwarnings("ignore", category=UserWarning, module="(trl|peft|torch)")
    tokenizer = AutoTokenizer.from_pretrained(str(base.hf_dir), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(base.hf_dir), local_files_only=True, dtype="float32")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def tokenize_example(example: dict[str, Any], tokenizer: Any) -> dict[str, list[int]]:
    """``input_ids`` and ``assistant_masks`` (1 on tokens inside a train span) of a training sequence."""
    encoded = tokenizer(example["text"], add_special_tokens=False, return_offsets_mapping=True)
    spans = example["train_spans"]
    mask = [int(any(start < end_ and start_ < end for start_, end_ in spans)) for start, end in encoded["offset_mapping"]]
    return {"input_ids": encoded["input_ids"], "assistant_masks": mask}


def sft(
    *,
    base: Checkpoint,
    examples: Path,
    out: Path,
    name: str = "sft",
    settings: LoraSettings = LoraSettings(),
    max_length: int = 4096,
    progress: Progress | None = None,
) -> Checkpoint:
    """LoRA SFT on training sequences (loss on the assistant turns only); resumes a finished run.

    Args:
        base: Checkpoint to fine-tune.
        examples: JSONL of ``{"text", "train_spans"}`` (see `training_example`).
        out: Output directory (``adapter/``, ``merged/``, ``<name>.gguf``, ``train_log.json``).
        name: Checkpoint name.
        settings: LoRA and optimiser settings.
        max_length: Sequences longer than this many tokens are dropped (counted), never truncated.
        progress: Called with (stage, step, steps).
    """
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    record = {"base": base.to_json(), "examples": str(examples), "max_length": max_length, **asdict(settings)}
    if (done := finished(out, record)) is not None:
        return done
    rows = [json.loads(line) for line in examples.read_text().splitlines() if line.strip()]
    model, tokenizer = load_for_training(base)
    tokenized = [tokenize_example(r, tokenizer) for r in rows]
    kept = [t for t in tokenized if len(t["input_ids"]) <= max_length and any(t["assistant_masks"])]
    if not kept:
        raise AntischemeError(f"{examples}: no training sequence fits in {max_length} tokens ({len(rows)} sequences)")
    out.mkdir(parents=True, exist_ok=True)
    args = SFTConfig(
        **trainer_options(settings, out),
        lr_scheduler_type="cosine",
        warmup_steps=max(1, settings.max_steps // 10),
        data_seed=settings.seed,
        max_length=max_length,
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(kept),
        processing_class=tokenizer,
        peft_config=lora_config(settings),
        callbacks=[_progress_callback(name, progress)],
    )
    result = quiet(trainer).train()
    stats = {
        "sequences_used": len(kept),
        "sequences_dropped": len(rows) - len(kept),
        "tokens": sum(len(t["input_ids"]) for t in kept),
        "trained_tokens": sum(sum(t["assistant_masks"]) for t in kept),
        **result.metrics,
    }
    return save_trained(trainer, name=name, base=base, out=out, settings=record, stats=stats)
