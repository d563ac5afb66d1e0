"""transformers + torch backend: HF folders, fine-tuned checkpoints, GGUF read by transformers.

Concurrent requests are gathered into one left-padded batch that decodes together; a batch runs
until all its sequences finish, then the next one starts (static batching: the HF cache does
not admit sequences mid-flight).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._engine import Engine, Sequence


def load_transformers_model(model_path: str | Path, *, dtype: str = "float32"):  # type: ignore[no-untyped-def]
    """Model and tokenizer from an HF folder or a GGUF file (dequantized), offline.

    Args:
        model_path: HF model folder, or a `.gguf` file.
        dtype: torch dtype name for the weights.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(model_path)
    torch_dtype = getattr(torch, dtype)
    if path.is_file() and path.suffix == ".gguf":
        source, extra = str(path.parent), {"gguf_file": path.name}
    else:
        source, extra = str(path), {}
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True, **extra)
    model = AutoModelForCausalLM.from_pretrained(source, local_files_only=True, dtype=torch_dtype, **extra)
    model.eval()
    return model, tokenizer


class TransformersEngine(Engine):
    """A causal LM served by transformers on torch.

    Args:
        model_path: HF model folder or GGUF file.
        max_batch: Most sequences decoded together.
        n_ctx: Context length per sequence (default: the model's).
        dtype: torch dtype of the weights.
        n_threads: torch CPU threads (default: all cores).
    """

    name = "transformers"

    def __init__(
        self,
        *,
        model_path: str | Path,
        max_batch: int = 8,
        n_ctx: int | None = None,
        dtype: str = "float32",
        n_threads: int | None = None,
    ) -> None:
        import torch

        torch.set_num_threads(n_threads or os.cpu_count() or 1)
        self._torch = torch
        self.model, self.tokenizer = load_transformers_model(model_path, dtype=dtype)
        context = n_ctx or int(getattr(self.model.config, "max_position_embeddings", 2048))
        super().__init__(max_batch=max_batch, context_length=context, continuous=False)
        ends = self.model.generation_config.eos_token_id
        ends = ends if isinstance(ends, list) else [ends]
        self._end_ids = {t for t in [*ends, self.tokenizer.eos_token_id] if t is not None}
        self._pad_id = self.tokenizer.pad_token_id
        if self._pad_id is None:
            self._pad_id = next(iter(self._end_ids))
        self._cache = None
        self._rows: dict[int, int] = {}
        self._mask = None

    @property
    def chat_template(self) -> str:
        template = self.tokenizer.chat_template
        if not template:
            raise ValueError("this model's tokenizer has no chat template")
        return template

    @property
    def special_tokens(self) -> dict[str, str]:
        return {"bos_token": self.tokenizer.bos_token or "", "eos_token": self.tokenizer.eos_token or ""}

    def tokenize(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def detokenize(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def is_end_of_turn(self, token_id: int) -> bool:
        return token_id in self._end_ids

    def _forward(self, sequences: list[Sequence]) -> list[np.ndarray | None]:
        torch = self._torch
        with torch.inference_mode():
            if self._cache is None:
                logits = self._prefill(sequences)
            else:
                logits = self._decode(sequences)
        return [row.float().numpy() for row in logits]

    def _prefill(self, sequences: list[Sequence]):  # type: ignore[no-untyped-def]
        torch = self._torch
        width = max(len(s.prompt_ids) for s in sequences)
        ids = torch.full((len(sequences), width), self._pad_id, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, sequence in enumerate(sequences):
            n = len(sequence.prompt_ids)
            ids[row, width - n :] = torch.tensor(sequence.prompt_ids)
            mask[row, width - n :] = 1
            sequence.n_cached = n
            self._rows[id(sequence)] = row
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
        self._cache, self._mask = out.past_key_values, mask
        return out.logits[:, -1, :]

    def _decode(self, sequences: list[Sequence]):  # type: ignore[no-untyped-def]
        torch = self._torch
        n_rows = self._mask.shape[0]
        ids = torch.full((n_rows, 1), self._pad_id, dtype=torch.long)
        new_mask = torch.zeros((n_rows, 1), dtype=torch.long)
        for sequence in sequences:
            row = self._rows[id(sequence)]
            ids[row, 0] = sequence.tokens[-1]
            new_mask[row, 0] = 1
            sequence.n_cached += 1
        positions = self._mask.sum(-1, keepdim=True)
        self._mask = torch.cat([self._mask, new_mask], dim=-1)
        out = self.model(
            input_ids=ids,
            attention_mask=self._mask,
            position_ids=positions,
            past_key_values=self._cache,
            use_cache=True,
        )
        self._cache = out.past_key_values
        rows = torch.tensor([self._rows[id(s)] for s in sequences], dtype=torch.long)
        return out.logits[rows, -1, :]

    def _batch_finished(self) -> None:
        self._cache, self._mask = None, None
        self._rows.clear()
