"""Training and checkpoint-serving speed on this machine: our TRL SFT step against a raw torch loop,
and a trained checkpoint served as an HF folder (transformers) against its GGUF export (llama.cpp).

- sft/trl       `antischeme.training.sft` (TRL SFTTrainer + PEFT LoRA) on real training sequences
                (scripted training-family rollouts rendered as the provider renders them)
- sft/raw       the same LoRA model, sequences and masks in a bare torch loop (forward, loss on the
                assistant tokens, backward, AdamW step): the engine without TRL/Trainer
- serve/hf      8 concurrent 64-token requests to `antischeme/<ckpt> -M model_path=<HF folder>`
- serve/gguf    the same requests to `-M model_path=<exported GGUF>` (llama.cpp backend)

Usage:
    python bench/training_throughput.py [--steps 4] [--out /tmp/antischeme-bench-training]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from inspect_ai.model import GenerateConfig, get_model

from antischeme.training import (
    TRAINING_FAMILY,
    LoraSettings,
    base_checkpoint,
    chat_format,
    generate_rollouts,
    select_deliberative,
    sft,
    write_dataset,
)
from antischeme.training._evaluate import family_task
from antischeme.training._sft import load_for_training, lora_config, tokenize_example


def raw_loop(base, rows: list[dict], steps: int, lr: float) -> float:  # type: ignore[no-untyped-def]
    """Seconds for ``steps`` LoRA steps of batch 1 in plain torch (first step excluded as warm-up)."""
    import torch
    from peft import get_peft_model

    model, tokenizer = load_for_training(base)
    model = get_peft_model(model, lora_config(LoraSettings()))
    model.train()
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    tokenized = [tokenize_example(r, tokenizer) for r in rows]
    start = 0.0
    for step in range(steps + 1):
        if step == 1:
            start = time.perf_counter()
        example = tokenized[step % len(tokenized)]
        ids = torch.tensor([example["input_ids"]])
        labels = ids.clone()
        labels[0, torch.tensor(example["assistant_masks"]) == 0] = -100
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
    return time.perf_counter() - start


def serve(model_path: str, requests: int = 8, max_tokens: int = 64) -> dict:
    model = get_model("antischeme/bench", model_path=model_path)
    config = GenerateConfig(max_tokens=max_tokens, temperature=0)

    async def many() -> int:
        outputs = await asyncio.gather(*(model.generate(f"Write a long story about topic {i}.", config=config)
                                         for i in range(requests)))
        return sum(o.usage.output_tokens for o in outputs)

    asyncio.run(model.generate("warm up", config=GenerateConfig(max_tokens=4)))
    start = time.perf_counter()
    tokens = asyncio.run(many())
    seconds = time.perf_counter() - start
    return {"tokens": tokens, "seconds": round(seconds, 2), "tok_per_s": round(tokens / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "antischeme-bench-training")
    args = parser.parse_args()
    base = base_checkpoint()
    fmt = chat_format(base.hf_dir)
    task = family_task(TRAINING_FAMILY, seed=0, data_split="train", spec=True, policy="saint")
    logs = generate_rollouts(source="scripted", tasks=[task], model="none/none", model_args=None,
                             log_dir=args.out / "rollouts", limit=8, seed=0)
    examples = write_dataset(select_deliberative(logs), args.out / "data", title="bench", provenance={}, fmt=fmt)
    rows = [json.loads(line) for line in examples.read_text().splitlines()]
    _, tokenizer = load_for_training(base)
    tokens_per_step = sum(len(tokenize_example(rows[i % len(rows)], tokenizer)["input_ids"])
                          for i in range(1, args.steps + 1)) / args.steps

    results = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
               "date": date.today().isoformat(), "steps": args.steps, "tokens_per_step": round(tokens_per_step)}
    raw = raw_loop(base, rows, args.steps, lr=1e-3)
    results["sft/raw"] = {"s_per_step": round(raw / args.steps, 2), "tok_per_s": round(tokens_per_step * args.steps / raw, 1)}
    out = args.out / f"sft-{time.time_ns()}"
    ckpt = sft(base=base, examples=examples, out=out, settings=LoraSettings(max_steps=args.steps + 1, batch_size=1, learning_rate=1e-3))
    log = json.loads((out / "checkpoint.json").read_text())["stats"]
    seconds = log["train_runtime"]
    results["sft/trl"] = {"s_per_step": round(seconds / (args.steps + 1), 2),
                          "tok_per_s": round(tokens_per_step * (args.steps + 1) / seconds, 1),
                          "note": "includes the first (warm-up) step"}
    results["serve/hf"] = serve(str(ckpt.hf_dir))
    results["serve/gguf"] = serve(str(ckpt.gguf))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
