"""Prefilled generation for CoT experiments: a provider check, concurrency (the local engine
batches concurrent requests), a resumable on-disk cache of finished requests, and progress."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ModelOutput,
    get_model,
)

from .._errors import AntischemeError

# providers that continue a trailing assistant message (prefill) instead of starting a new turn
PREFILL_PROVIDERS = ("antischeme", "vllm", "sglang")


def check_prefill(model: Model) -> None:
    """A clear error unless the model's provider can continue an assistant message."""
    provider = str(model).split("/", 1)[0]
    if provider not in PREFILL_PROVIDERS and provider != "mockllm":
        raise AntischemeError(
            f"{model} cannot continue an assistant message (prefill), which CoT interventions need; "
            f"use a provider that can: {', '.join(p + '/' for p in PREFILL_PROVIDERS)}"
        )


@dataclass(frozen=True)
class Request:
    """One generation: a user prompt and an assistant prefix to continue.

    Args:
        prompt: The user message.
        prefill: The start of the assistant's turn, continued by the model.
        max_tokens: Most new tokens.
        seed: Sampling seed (with temperature 0 it changes nothing).
        temperature: Sampling temperature.
    """

    prompt: str
    prefill: str
    max_tokens: int
    seed: int = 0
    temperature: float = 0.0

    def messages(self) -> list[ChatMessage]:
        return [ChatMessageUser(content=self.prompt), ChatMessageAssistant(content=self.prefill)]


@dataclass(frozen=True)
class Continuation:
    """What the model added after the prefill, and how many tokens it spent."""

    text: str
    tokens: int


class Generator:
    """Runs requests concurrently, keeps finished ones in a JSONL cache, reports progress.

    Args:
        model: Any Inspect model whose provider can prefill.
        cache: JSONL file of finished requests (a re-run skips them; None: no cache).
        max_connections: Concurrent requests (the local engine decodes them in one batch).
        progress: Called after each finished request with (done, total).
    """

    def __init__(
        self,
        model: str | Model,
        *,
        cache: Path | None = None,
        max_connections: int = 8,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.model = get_model(model) if isinstance(model, str) else model
        check_prefill(self.model)
        self.cache = cache
        self.done: dict[str, Continuation] = {}
        if cache is not None and cache.is_file():
            for line in cache.read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    self.done[record["key"]] = Continuation(record["text"], record["tokens"])
        self.max_connections = max_connections
        self.progress = progress
        self.cached_hits = 0
        self.requested = 0

    def key(self, request: Request) -> str:
        payload = json.dumps([str(self.model), request.prompt, request.prefill, request.max_tokens, request.seed,
                              request.temperature])
        return hashlib.sha256(payload.encode()).hexdigest()

    def run(self, requests: list[Request]) -> list[Continuation]:
        """Continue every request's prefill (finished ones come from the cache)."""
        return asyncio.run(self._run(requests))

    async def _run(self, requests: list[Request]) -> list[Continuation]:
        self.requested += len(requests)
        limit = asyncio.Semaphore(self.max_connections)
        keys = [self.key(r) for r in requests]
        # identical requests are generated once: batched decoding is not bit-reproducible across
        # batch compositions, so two copies could differ and a resumed run would not match
        unique = {key: request for key, request in zip(keys, requests)}
        self.cached_hits += sum(key in self.done for key in keys)
        todo = {key: request for key, request in unique.items() if key not in self.done}
        finished = len(requests) - sum(keys.count(key) for key in todo) if todo else len(requests)
        if self.progress:
            self.progress(finished, len(requests))
        counts = {key: keys.count(key) for key in todo}

        async def one(key: str, request: Request) -> None:
            nonlocal finished
            async with limit:
                output = await self.model.generate(
                    request.messages(),
                    config=GenerateConfig(max_tokens=request.max_tokens, temperature=request.temperature, seed=request.seed),
                )
            if output.error:
                raise AntischemeError(f"generation failed: {output.error}")
            self.done[key] = Continuation(_continuation(output), output.usage.output_tokens if output.usage else 0)
            if self.cache is not None:
                with self.cache.open("a") as file:
                    file.write(json.dumps({"key": key, **self.done[key].__dict__}) + "\n")
            finished += counts[key]
            if self.progress:
                self.progress(finished, len(requests))

        await asyncio.gather(*(one(key, request) for key, request in todo.items()))
        return [self.done[key] for key in keys]


def _continuation(output: ModelOutput) -> str:
    """The raw text the model added after the prefill. The local provider returns the whole turn
    (prefill included, reasoning split out) and keeps the raw continuation in its metadata; other
    prefill providers return only the continuation."""
    continuations = (output.metadata or {}).get("continuations")
    if continuations:
        return str(continuations[0])
    return output.message.text
