"""The local engine: one worker thread that batches every concurrent request.

Requests from any thread (Inspect runs many samples at once) go on a queue. The worker admits
them into a running batch and advances every sequence in the batch by one token per forward
pass, so eight concurrent rollouts cost far less than eight sequential ones. Backends only
implement the forward pass (`_forward`); admission, sampling, stop strings and bookkeeping
are shared here.
"""

from __future__ import annotations

import abc
import asyncio
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ._sampling import Sampler, SamplingParams, TokenLogprob

FinishReason = Literal["stop", "length", "context"]


@dataclass
class Completion:
    """One generated continuation.

    Args:
        text: Decoded text (stop string excluded).
        token_ids: Generated token ids.
        finish_reason: "stop" (end of turn or stop string), "length" (max_tokens) or
            "context" (context window full).
        logprobs: Per-token log probabilities when requested.
    """

    text: str
    token_ids: list[int]
    finish_reason: FinishReason
    logprobs: list[TokenLogprob] | None = None


@dataclass(eq=False)  # identity, not field equality: two requests can be identical (epochs)
class Sequence:
    """A sequence being generated (one choice of one request)."""

    prompt_ids: list[int]
    params: SamplingParams
    request: "_Request"
    slot: int = -1
    n_cached: int = 0  # tokens already in the backend's cache for this sequence
    cache_ready: bool = False  # the backend has decided what cached prefix this sequence reuses
    generated: list[int] = field(default_factory=list)
    logprobs: list[TokenLogprob] = field(default_factory=list)
    text: str = ""
    finish_reason: FinishReason | None = None
    sampler: Sampler = field(init=False)

    def __post_init__(self) -> None:
        self.sampler = Sampler(self.params)

    @property
    def tokens(self) -> list[int]:
        return self.prompt_ids + self.generated

    @property
    def done(self) -> bool:
        return self.finish_reason is not None


@dataclass(eq=False)
class _Request:
    sequences: list[Sequence]
    future: Future[list[Completion]]


class EngineError(RuntimeError):
    """A request the engine cannot serve (e.g. a prompt longer than the context)."""


class Engine(abc.ABC):
    """A loaded local model serving batched generation.

    Args:
        max_batch: Most sequences decoded together.
        context_length: Most tokens (prompt + generation) per sequence.
        continuous: Admit new sequences while others are mid-generation (needs a cache that
            can hold sequences of different lengths); otherwise batches run to completion.
    """

    name: str = "engine"
    #: how long a static-batching engine waits for more requests before starting a batch
    GATHER_SECONDS = 0.05

    def __init__(self, *, max_batch: int, context_length: int, continuous: bool) -> None:
        self.max_batch = max_batch
        self.context_length = context_length
        self._continuous = continuous
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._waiting: list[Sequence] = []
        self._active: list[Sequence] = []
        self._free_slots = list(range(max_batch))
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: forward passes run, largest number of sequences decoded in one pass, tokens sampled,
        #: prompt tokens read by a forward pass and prompt tokens taken from a cached prefix instead
        self.stats = {"forward_passes": 0, "peak_batch": 0, "sampled_tokens": 0, "prompt_tokens_read": 0,
                      "prompt_tokens_reused": 0}

    # --- what a backend provides -------------------------------------------------------
    @property
    @abc.abstractmethod
    def chat_template(self) -> str:
        """Jinja chat template of the model."""

    @property
    @abc.abstractmethod
    def special_tokens(self) -> dict[str, str]:
        """bos_token / eos_token strings for the chat template."""

    @abc.abstractmethod
    def tokenize(self, text: str) -> list[int]:
        """Token ids of text (special tokens in the text are parsed as such)."""

    @abc.abstractmethod
    def detokenize(self, ids: list[int]) -> str:
        """Text of token ids."""

    @abc.abstractmethod
    def is_end_of_turn(self, token_id: int) -> bool:
        """Whether a token ends the model's turn."""

    @abc.abstractmethod
    def _forward(self, sequences: list[Sequence]) -> list[np.ndarray | None]:
        """Feed each sequence's uncached tokens; return each one's next-token logits.

        None for a sequence that is not ready to sample yet (a long prompt still being read in
        chunks, or a choice waiting for its sibling's shared prompt).
        """

    def _pick_slot(self, sequence: Sequence) -> int:
        """The free slot a newly admitted sequence gets (backends with a prefix cache pick the best one)."""
        return self._free_slots[0]

    def _release(self, sequence: Sequence, *, failed: bool = False) -> None:
        """Done with a sequence's cache (continuous backends); after a failure its content is unknown."""

    def _batch_finished(self) -> None:
        """All sequences of a static batch are done."""

    # --- public API --------------------------------------------------------------------
    def submit(self, prompt_ids: list[int], params: list[SamplingParams]) -> Future[list[Completion]]:
        """Queue one prompt with one `SamplingParams` per wanted choice."""
        future: Future[list[Completion]] = Future()
        limit = self.context_length - 1
        if len(prompt_ids) > limit:
            future.set_exception(
                EngineError(
                    f"prompt is {len(prompt_ids)} tokens but the context holds {self.context_length}; "
                    "raise it with -M n_ctx=<tokens> or shorten the input"
                )
            )
            return future
        request = _Request(sequences=[], future=future)
        request.sequences = [Sequence(list(prompt_ids), p, request) for p in params]
        self._ensure_worker()
        self._queue.put(request)
        return future

    async def generate(self, prompt_ids: list[int], params: list[SamplingParams]) -> list[Completion]:
        """Awaitable `submit`."""
        return await asyncio.wrap_future(self.submit(prompt_ids, params))

    def generate_sync(self, prompt_ids: list[int], params: list[SamplingParams]) -> list[Completion]:
        """Blocking `submit`."""
        return self.submit(prompt_ids, params).result()

    def close(self) -> None:
        """Stop the worker thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    # --- the worker --------------------------------------------------------------------
    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=f"{self.name}-worker", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            self._serve()
        except BaseException as ex:  # never leave callers waiting on a dead worker
            failure = EngineError(f"the {self.name} engine worker stopped: {ex!r}")
            for sequence in self._active:
                try:
                    self._release(sequence, failed=True)
                except Exception:
                    pass  # the worker is already failing; its callers get that error below
            for sequence in [*self._active, *self._waiting]:
                if not sequence.request.future.done():
                    sequence.request.future.set_exception(failure)
            self._active.clear()
            self._waiting.clear()
            self._free_slots = list(range(self.max_batch))
            self._batch_finished()
            raise

    def _serve(self) -> None:
        while True:
            if not self._active and not self._waiting:
                item = self._queue.get()
                if item is None:
                    return
                self._waiting.extend(item.sequences)
                if not self._continuous and not self._gather(time.monotonic() + self.GATHER_SECONDS):
                    return
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    return
                self._waiting.extend(item.sequences)
            self._admit()
            try:
                step = [s for s in self._active if not s.done]
                logits = self._forward(step)
                self.stats["forward_passes"] += 1
                self.stats["peak_batch"] = max(self.stats["peak_batch"], len(step))
                self.stats["sampled_tokens"] += sum(row is not None for row in logits)
                for sequence, row in zip(step, logits):
                    if row is not None:
                        self._accept(sequence, row)
            except Exception as ex:  # a backend failure fails its requests, not the worker
                self._fail_active(ex)
                continue
            self._retire()

    def _gather(self, deadline: float) -> bool:
        """Static batching: wait briefly for concurrent requests to arrive, so they share a batch
        instead of queueing behind the first one. False when asked to stop."""
        while len(self._waiting) < self.max_batch:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                break
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                break
            if item is None:
                return False
            self._waiting.extend(item.sequences)
        return True

    def _admit(self) -> None:
        if not self._continuous and self._active:
            return
        while self._waiting and self._free_slots:
            sequence = self._waiting.pop(0)
            sequence.slot = self._pick_slot(sequence)
            self._free_slots.remove(sequence.slot)
            self._active.append(sequence)

    def _accept(self, sequence: Sequence, logits: np.ndarray) -> None:
        token, logprob = sequence.sampler(logits)
        if self.is_end_of_turn(token):
            sequence.finish_reason = "stop"
            return
        sequence.generated.append(token)
        if logprob is not None:
            sequence.logprobs.append(logprob)
        sequence.text = self.detokenize(sequence.generated)
        for stop in sequence.params.stop:
            cut = sequence.text.find(stop)
            if cut >= 0:
                sequence.text = sequence.text[:cut]
                sequence.finish_reason = "stop"
                return
        if len(sequence.generated) >= sequence.params.max_tokens:
            sequence.finish_reason = "length"
        elif len(sequence.tokens) >= self.context_length:
            sequence.finish_reason = "context"

    def _retire(self) -> None:
        if self._continuous:
            for sequence in [s for s in self._active if s.done]:
                self._release(sequence)
                self._free_slot(sequence)
        elif all(s.done for s in self._active):
            self._batch_finished()
            for sequence in list(self._active):
                self._free_slot(sequence)

    def _free_slot(self, sequence: Sequence) -> None:
        self._active.remove(sequence)
        self._free_slots.append(sequence.slot)
        self._free_slots.sort()
        request = sequence.request
        if all(s.done and s not in self._active for s in request.sequences) and not request.future.done():
            request.future.set_result(
                [
                    Completion(
                        text=s.text,
                        token_ids=list(s.generated),
                        finish_reason=s.finish_reason or "stop",
                        logprobs=list(s.logprobs) if s.params.logprobs or s.params.top_logprobs else None,
                    )
                    for s in request.sequences
                ]
            )

    def _fail_active(self, ex: Exception) -> None:
        failed = {id(s.request): s.request for s in self._active}
        for sequence in list(self._active):
            self._release(sequence, failed=True)
            self._active.remove(sequence)
            self._free_slots.append(sequence.slot)
        self._free_slots.sort()
        self._batch_finished()
        for request in failed.values():
            self._waiting = [s for s in self._waiting if s.request is not request]
            if not request.future.done():
                request.future.set_exception(ex)
