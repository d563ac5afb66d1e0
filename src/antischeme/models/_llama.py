"""llama.cpp backend: GGUF models, continuous batching over llama.cpp sequences.

Every active sequence owns one llama.cpp sequence id (a slot) in a unified KV cache, so each
forward pass decodes one token for all of them together and a finished sequence's slot is
reused at once. The choices of one request read their shared prompt once: the first choice
reads it, the others copy its cache.
"""

from __future__ import annotations

import ctypes
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
        verbose: Let llama.cpp print its logs.
    """

    name = "llama.cpp"

    def __init__(
        self,
        *,
        model_path: str | Path,
        max_batch: int = 8,
        n_ctx: int | None = None,
        n_batch: int = 512,
        n_threads: int | None = None,
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

    # --- batched forward ---------------------------------------------------------------
    def _forward(self, sequences: list[Sequence]) -> list[np.ndarray | None]:
        lib, batch = self._lib, self._batch
        budget = self._n_batch
        batch.n_tokens = 0
        rows: dict[int, int] = {}  # sequence index -> batch row holding its logits
        # caches filled by earlier steps; only those can be copied (this batch is not decoded yet)
        cached_before = {id(s): s.n_cached for s in sequences}

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
            if wants_logits:
                rows[index] = batch.n_tokens - 1

        # decoding sequences first: one token each, cheap and latency-critical
        for index, sequence in enumerate(sequences):
            if sequence.n_cached and sequence.n_cached == len(sequence.tokens) - 1 and budget:
                add(index, sequence, sequence.tokens[-1:], wants_logits=True)
                budget -= 1
        # then prompts, in chunks; the choices of one request read their shared prompt once
        reading: set[int] = set()
        for index, sequence in enumerate(sequences):
            prompt_length = len(sequence.prompt_ids)
            if sequence.generated or sequence.n_cached >= prompt_length:
                continue
            if sequence.n_cached == 0:
                donor = next(
                    (
                        s
                        for s in sequences
                        if s.request is sequence.request
                        and s is not sequence
                        and cached_before[id(s)] >= prompt_length - 1
                    ),
                    None,
                )
                if donor is not None and prompt_length > 1:
                    # copy all but the last prompt token, which is fed below to get fresh logits
                    lib.llama_memory_seq_cp(self._ctx.memory, donor.slot, sequence.slot, 0, prompt_length - 1)
                    sequence.n_cached = prompt_length - 1
                elif id(sequence.request) in reading or any(
                    s.request is sequence.request and 0 < s.n_cached < prompt_length - 1 for s in sequences
                ):
                    continue  # a sibling is reading the prompt; copy it when done
            if not budget:
                continue
            reading.add(id(sequence.request))
            chunk = sequence.prompt_ids[sequence.n_cached : sequence.n_cached + budget]
            add(index, sequence, chunk, wants_logits=sequence.n_cached + len(chunk) == prompt_length)
            budget -= len(chunk)

        if batch.n_tokens:
            code = lib.llama_decode(self._ctx.ctx, batch)
            if code != 0:
                raise RuntimeError(f"llama_decode failed with code {code} (KV cache full or bad batch)")

        logits: list[np.ndarray | None] = [None] * len(sequences)
        for index, row in rows.items():
            pointer = lib.llama_get_logits_ith(self._ctx.ctx, row)
            logits[index] = np.ctypeslib.as_array(pointer, shape=(self._n_vocab,)).copy()
        return logits

    def _release(self, sequence: Sequence) -> None:
        self._lib.llama_memory_seq_rm(self._ctx.memory, sequence.slot, -1, -1)

    def close(self) -> None:
        super().close()
        if self._batch is not None:
            self._lib.llama_batch_free(self._batch)
            self._batch = None
