"""Multi-turn agent rollouts on the embedded model: the llama.cpp prefix cache against re-reading
every turn, and against the raw engine.

An agent's turn k prompt is turn k-1's prompt plus the model's answer and the tool results, so a
prefix cache reads only what is new. Measures, on real suite rollouts (greedy, so every measure
generates the same text):

- cache on    Inspect eval of the tasks on `antischeme/smollm2` (the default engine)
- cache off   the same with `-M prefix_cache=false` (each turn re-reads the whole conversation)
- raw         the prompts the cache-on run sent, replayed through llama_cpp.Llama.create_completion
              one after another, conversation by conversation (its own single-sequence prefix reuse;
              the engine's best case at concurrency 1)

Each measure runs in its own process. Prints wall time, generated and prompt tokens, and how many
prompt tokens were read vs reused.

Usage: python bench/agent_turns.py [--tasks covert_rule_violation,log_falsification] [--limit 4]
       [--max-tokens 128] [--message-limit 12]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import tempfile
import time
from datetime import date

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _eval(tasks: list[str], limit: int, max_tokens: int, message_limit: int, prefix_cache: bool, log_dir: str,
          model_path: str | None) -> dict:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from antischeme.training._evaluate import family_task

    model = get_model("antischeme/smollm2", prefix_cache=prefix_cache, **({"model_path": model_path} if model_path else {}))
    task_list = [family_task(t, seed=0, message_limit=message_limit) for t in tasks]
    start = time.perf_counter()
    logs = inspect_eval(task_list, model=model, limit=limit, log_dir=log_dir, temperature=0, max_tokens=max_tokens,
                        seed=0, display="none", max_samples=16)
    seconds = time.perf_counter() - start
    stats = dict(model.api.engine.stats)
    transcripts = {}
    for log in logs:
        for sample in log.samples or []:
            transcripts[f"{log.eval.task}/{sample.id}/{sample.epoch}"] = [
                [m.text, [[c.function, c.arguments] for c in getattr(m, "tool_calls", None) or []]]
                for m in sample.messages
            ]
    return {"seconds": seconds, "stats": stats, "logs": [log.location for log in logs], "transcripts": transcripts}


def _raw(logs: list[str], max_tokens: int, model_path: str | None) -> dict:
    from inspect_ai.log import read_eval_log, resolve_sample_attachments
    from llama_cpp import Llama

    from antischeme.models import embedded_model_path, load_engine

    engine = load_engine(model_path=embedded_model_path(), backend="llama")  # tokenizer only; stays idle
    conversations = []
    for location in logs:
        for sample in read_eval_log(location).samples or []:
            sample = resolve_sample_attachments(sample, "full")
            prompts = [e.call.request["prompt"] for e in sample.events if e.event == "model" and e.call]
            conversations.append([engine.tokenize(p) for p in prompts])
    llm = Llama(model_path or str(embedded_model_path()), n_ctx=4096, n_threads=os.cpu_count(), verbose=False)
    generated = prompt_tokens = 0
    start = time.perf_counter()
    for prompts in conversations:
        llm.reset()
        for ids in prompts:
            usage = llm.create_completion(ids, max_tokens=max_tokens, temperature=0)["usage"]
            generated += usage["completion_tokens"]
            prompt_tokens += len(ids)
    return {"seconds": time.perf_counter() - start, "generated": generated, "prompt_tokens": prompt_tokens,
            "turns": sum(len(c) for c in conversations)}


def _measure(name: str, args: dict, queue: multiprocessing.Queue) -> None:
    queue.put(_raw(**args) if name == "raw" else _eval(**args))


def _run(name: str, args: dict) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(name, args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="covert_rule_violation,log_falsification")
    parser.add_argument("--limit", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--message-limit", type=int, default=12)
    parser.add_argument("--model-path", help="another GGUF (e.g. a model organism, which acts over many turns)")
    args = parser.parse_args()
    tasks = args.tasks.split(",")
    common = {"tasks": tasks, "limit": args.limit, "max_tokens": args.max_tokens, "message_limit": args.message_limit,
              "model_path": args.model_path}
    with tempfile.TemporaryDirectory() as tmp:
        on = _run("eval", {**common, "prefix_cache": True, "log_dir": f"{tmp}/on"})
        off = _run("eval", {**common, "prefix_cache": False, "log_dir": f"{tmp}/off"})
        raw = _run("raw", {"logs": on["logs"], "max_tokens": args.max_tokens, "model_path": args.model_path})
    same = sum(text == off["transcripts"].get(key) for key, text in on["transcripts"].items())
    print(f"# {date.today()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores; tasks {tasks}, "
          f"model {args.model_path or 'embedded'}, limit {args.limit} each, greedy, max_tokens {args.max_tokens}, message_limit {args.message_limit}")
    print(f"rollouts {len(on['transcripts'])}; identical transcripts with and without the cache: "
          f"{same}/{len(on['transcripts'])}; model turns {raw['turns']}")
    print("| measure | seconds | generated tokens | gen tok/s | prompt tokens read | prompt tokens reused |")
    print("|---|---|---|---|---|---|")
    for name, result in (("cache on (ours, batched)", on), ("cache off (ours, batched)", off)):
        stats = result["stats"]
        print(f"| {name} | {result['seconds']:.1f} | {stats['sampled_tokens']} | "
              f"{stats['sampled_tokens'] / result['seconds']:.1f} | {stats['prompt_tokens_read']} | "
              f"{stats['prompt_tokens_reused']} |")
    print(f"| raw Llama.create_completion, sequential | {raw['seconds']:.1f} | {raw['generated']} | "
          f"{raw['generated'] / raw['seconds']:.1f} | (of {raw['prompt_tokens']}) | own reuse |")
    print(json.dumps({"on": {k: on[k] for k in ("seconds", "stats")}, "off": {k: off[k] for k in ("seconds", "stats")},
                      "raw": raw, "identical": same, "rollouts": len(on["transcripts"])}))


if __name__ == "__main__":
    main()
