"""CoT length in tokens under one fixed tokenizer (the embedded model's), so lengths compare
across models whatever their own tokenizers."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "antischeme"


@cache
def _tokenizer():  # type: ignore[no-untyped-def]
    """SmolLM2's tokenizer as a Rust `tokenizers` object (batch encoding runs in parallel).

    Converting it from the GGUF through transformers takes a few seconds, so the result is kept
    as tokenizer.json in the user cache and later loads take milliseconds.
    """
    from tokenizers import Tokenizer

    from ..models import embedded_model_path

    gguf = embedded_model_path()
    cached = _cache_dir() / f"tokenizer-{gguf.stem}-{gguf.stat().st_size}.json"
    if cached.is_file():
        return Tokenizer.from_file(str(cached))
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    tokenizer.backend_tokenizer.save(str(partial))
    partial.replace(cached)  # atomic: parallel ingest workers never read half a file
    return tokenizer.backend_tokenizer


def count_tokens(texts: list[str]) -> list[int]:
    """Tokens per text under the embedded SmolLM2 tokenizer (no special tokens)."""
    if not texts:
        return []
    return [len(e.ids) for e in _tokenizer().encode_batch(texts, add_special_tokens=False)]


def count_words(text: str) -> int:
    return len(text.split())
