"""llama.cpp backend: GGUF models, continuous batching over llama.cpp sequences.

Every active sequence owns one llama.cpp sequence id (a slot) in a unified KV cache, so each
forward pass decodes one token for all of them together and a finished sequence's slot is
reused at once.

Prefix cache: a finished sequence's cache stays in its slot, and a new prompt starts from the
longest prefix any slot holds (kept in place, or copied, which in a unified cache shares the cells
rather than duplicating them). An agent's next turn therefore reads only the messages added since
its last turn, and prompts that share a beginning (the choices of one request, K resamples of one
prefix, a common system prompt) read it once.
"""

from __future__ import annotations

import ctypes
import itertools
import os
from pathlib import Path

import numpy as np

from ._engine import Engine, Sequence


def _quiet_llama_logs() -> None:
    import llama_cpp

    @llama_cpp.llama_log_callback
    def _ignore(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        return None

    # keep a reference: llama.cpp holds the raw pointer
    _quiet_llama_logs.callback = _ignore  # type: ignore[attr-defined]
    llama_cpp.llama_log_set(_ignore, ctypes.c_void_p(0))


class LlamaCppEngine(Engine):
    """A GGUF model served by llama.cpp.

    Args:
        model_path: GGUF file.
        max_batch: Concurrent sequences (llama.cpp parallel slots).
        n_ctx: Context length per sequence (default: the model's training context, at most 8192).
        n_batch: Most tokens fed to one llama.cpp decode call (prompts are read in chunks).
        n_threads: CPU threads (default: all cores).
        prefix_cache: Keep finished sequences' caches and start new prompts from the longest cached
            prefix (a conversation's next turn re-reads only its new messages).
        verbose: Let llama.cpp print its logs.
    """

    name = "llama.cpp"
    #: a new sequence waits for one still reading its prompt when they share at least this many more
    #: tokens than the cache already holds
    MIN_SHARED_PREFIX = 16

    def __init__(
        self,
        *,
        model_path: str | Path,
        max_batch: int = 8,
        n_ctx: int | None = None,
        n_batch: int = 512,
        n_threads: int | None = None,
        prefix_cache: bool = True,
        verbose: bool = False,
    ) -> None:
        import llama_cpp
        from llama_cpp import _internals

        if not verbose:
            _quiet_llama_logs()
        self._lib = llama_cpp
        model_params = llama_cpp.llama_model_default_params()
        self._model = _internals.LlamaModel(path_model=str(model_path), params=model_params, verbose=verbose)
        n_ctx = n_ctx or min(self._model.n_ctx_train(), 8192)
        super().__init__(max_batch=max_batch, context_length=n_ctx, continuous=True)
        threads = n_threads or os.cpu_count() or 1
        ctx_params = llama_cpp.llama_context_default_params()
        ctx_params.n_ctx = n_ctx * max_batch
        ctx_params.n_batch = n_batch
        ctx_params.n_ubatch = n_batch
        ctx_params.n_seq_max = max_batch
        ctx_params.kv_unified = True  # sequences share one cache so any slot can grow to n_ctx
        ctx_params.n_threads = threads
        ctx_params.n_threads_batch = threads
        self._ctx = _internals.LlamaContext(model=self._model, params=ctx_params, verbose=verbose)
        self._n_batch = n_batch
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._n_vocab = self._model.n_vocab()
        self._metadata = self._model.metadata()
        self._eog = {t for t in range(self._n_vocab) if llama_cpp.llama_vocab_is_eog(self._model.vocab, t)}
        self._pieces: dict[int, bytes] = {}
        self._prefix_cache = prefix_cache
        self._slot_tokens: list[list[int]] = [[] for _ in range(max_batch)]  # what each slot's cache holds
        self._slot_used = [0] * max_batch  # when each slot was last released, for eviction order
        self._uses = itertools.count(1)

    # --- model facts -------------------------------------------------------------------
    @property
    def chat_template(self) -> str:
        template = self._metadata.get("tokenizer.chat_template")
        if not template:
            raise ValueError("this GGUF file carries no chat template (tokenizer.chat_template)")
        return template

    @property
    def special_tokens(self) -> dict[str, str]:
        def text(token: int) -> str:
            return self._model.token_get_text(token) if token >= 0 else ""

        return {"bos_token": text(self._model.token_bos()), "eos_token": text(self._model.token_eos())}

    def tokenize(self, text: str) -> list[int]:
        return self._model.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def detokenize(self, ids: list[int]) -> str:
        return b"".join(self._piece(t) for t in ids).decode("utf-8", errors="replace")

    def is_end_of_turn(self, token_id: int) -> bool:
        return token_id in self._eog

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = self._model.detokenize([token], special=False)
        return piece

    # --- prefix cache ------------------------------------------------------------------
    def _pick_slot(self, sequence: Sequence) -> int:
        # the free slot whose cache shares the longest prefix (the conversation's own last turn);
        # otherwise the one used longest ago, so recent conversations keep their caches
        def value(slot: int) -> tuple[int, int]:
            shared = _common_prefix(self._slot_tokens[slot], sequence.prompt_ids) if self._prefix_cache else 0
            return shared, -self._slot_used[slot]

        return max(self._free_slots, key=value)

    def _reuse_prefix(self, sequence: Sequence, sequences: list[Sequence], decoded: list[int]) -> bool:
        """Give a newly admitted sequence the longest cached prefix of its prompt, from its own slot or
        copied from any other. False while a sequence still reading a longer shared prefix should be
        waited for (K resamples of one prefix, or the choices of one request, read it once)."""
        slot, prompt = sequence.slot, sequence.prompt_ids
        limit = len(prompt) - 1  # the last prompt token is always fed, for fresh logits
        # without the prefix cache, only the choices of one request share their prompt
        peers = sequences if self._prefix_cache else [s for s in sequences if s.request is sequence.request]
        slots = range(len(self._slot_tokens)) if self._prefix_cache else [s.slot for s in peers]
        best, source = 0, slot
        for other in slots:
            shared = min(_common_prefix(self._slot_tokens[other][: decoded[other]], prompt), limit)
            if shared > best or (shared == best and other == slot):
                best, source = shared, other
        for reader in peers:
            if reader is sequence or not reader.cache_ready or reader.generated:
                continue
            shared = min(_common_prefix(reader.prompt_ids, prompt), limit)
            if shared >= best + self.MIN_SHARED_PREFIX and decoded[reader.slot] < shared:
                return False
        memory = self._ctx.memory
        if source == slot:
            if not self._lib.llama_memory_seq_rm(memory, slot, best, -1):  # e.g. recurrent models
                self._lib.llama_memory_seq_rm(memory, slot, -1, -1)
                best = 0
        else:
            self._lib.llama_memory_seq_rm(memory, slot, -1, -1)
            self._lib.llama_memory_seq_cp(memory, source, slot, 0, best)
        self._slot_tokens[slot] = list(prompt[:best])
        decoded[slot] = best  # what was trimmed can no longer be copied by the sequences after this one
        sequence.n_cached = best
        sequence.cache_ready = True
        self.stats["prompt_tokens_reused"] += best
        return True

    # --- batched forward ---------------------------------------------------------------
    def _forward(self, sequences: list[Sequence]) -> list[np.ndarray | None]:
        lib, batch = self._lib, self._batch
        budget = self._n_batch
        batch.n_tokens = 0
        rows: dict[int, int] = {}  # sequence index -> batch row holding its logits
        # caches filled by earlier passes; only those can be copied (this batch is not decoded yet)
        decoded = [len(tokens) for tokens in self._slot_tokens]

        def add(index: int, sequence: Sequence, tokens: list[int], *, wants_logits: bool) -> None:
            for offset, token in enumerate(tokens):
                row = batch.n_tokens
                batch.token[row] = token
                batch.pos[row] = sequence.n_cached + offset
                batch.n_seq_id[row] = 1
                batch.seq_id[row][0] = sequence.slot
                batch.logits[row] = wants_logits and offset == len(tokens) - 1
                batch.n_tokens += 1
            sequence.n_cached += len(tokens)
            self._slot_tokens[sequence.slot].extend(tokens)
            if wants_logits:
                rows[index] = batch.n_tokens - 1

        # decoding sequences first: one token each, cheap and latency-critical
        for index, sequence in enumerate(sequences):
            if sequence.generated and sequence.n_cached == len(sequence.tokens) - 1 and budget:
                add(index, sequence, sequence.tokens[-1:], wants_logits=True)
                budget -= 1
        # then prompts, in chunks, after each new sequence took what it can from the cache
        for index, sequence in enumerate(sequences):
            prompt_length = len(sequence.prompt_ids)
            if sequence.generated or sequence.n_cached >= prompt_length:
                continue
            if not sequence.cache_ready and not self._reuse_prefix(sequence, sequences, decoded):
                continue
            if not budget:
                continue
            chunk = sequence.prompt_ids[sequence.n_cached : sequence.n_cached + budget]
            add(index, sequence, chunk, wants_logits=sequence.n_cached + len(chunk) == prompt_length)
            self.stats["prompt_tokens_read"] += len(chunk)
            budget -= len(chunk)

        if batch.n_tokens:
            code = lib.llama_decode(self._ctx.ctx, batch)
            if code == 1 and self._evict_idle():  # no room: drop the idle slots' caches and retry
                code = lib.llama_decode(self._ctx.ctx, batch)
            if code != 0:
                raise RuntimeError(f"llama_decode failed with code {code} (KV cache full or bad batch)")

        logits: list[np.ndarray | None] = [None] * len(sequences)
        for index, row in rows.items():
            pointer = lib.llama_get_logits_ith(self._ctx.ctx, row)
            logits[index] = np.ctypeslib.as_array(pointer, shape=(self._n_vocab,)).copy()
        return logits

    def _evict_idle(self) -> bool:
        idle = [slot for slot in self._free_slots if self._slot_tokens[slot]]
        for slot in idle:
            self._lib.llama_memory_seq_rm(self._ctx.memory, slot, -1, -1)
            self._slot_tokens[slot] = []
        return bool(idle)

    def _release(self, sequence: Sequence, *, failed: bool = False) -> None:
        # a finished sequence's cache stays: its conversation's next turn, or another prompt with
        # the same beginning, reuses it; a failed pass leaves the cache unknown, so it goes
        self._slot_used[sequence.slot] = next(self._uses)
        if failed or not self._prefix_cache:
            self._lib.llama_memory_seq_rm(self._ctx.memory, sequence.slot, -1, -1)
            self._slot_tokens[sequence.slot] = []

    def close(self) -> None:
        super().close()
        if self._batch is not None:
            self._lib.llama_batch_free(self._batch)
            self._batch = None


def _common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the longest common prefix, by bisection over slice comparisons (C speed)."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    low, high = 0, n  # a[:low] == b[:low] and a[:high] != b[:high]
    while high - low > 1:
        middle = (low + high) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle
    return low
