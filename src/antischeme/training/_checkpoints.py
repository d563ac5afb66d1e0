"""Checkpoints: a trainable HF folder from any local model, and a GGUF copy for fast rollouts.

Training needs an HF folder (transformers + PEFT); rollouts are ~5x faster on llama.cpp, which
needs GGUF. The embedded model ships as GGUF, so we dequantize it once into an HF folder (cached),
and after training we write the merged weights back into a GGUF whose metadata (tokenizer, chat
template, hyperparameters) is copied from the base model's GGUF.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import AntischemeError
from ..models import embedded_model_path

CACHE = Path(os.environ.get("ANTISCHEME_CACHE", Path.home() / ".cache" / "antischeme"))


@dataclass(frozen=True)
class Checkpoint:
    """A model the local provider can load.

    Args:
        name: Short label (``base``, ``organism``, ``sft``, ``rl``).
        hf_dir: HF model folder (what training starts from).
        gguf: GGUF copy for the llama.cpp backend (None: the transformers backend serves it).
    """

    name: str
    hf_dir: Path
    gguf: Path | None = None

    def model_args(self) -> dict[str, Any]:
        """Provider args: ``--model antischeme/<name> -M model_path=...``."""
        return {"model_path": str(self.gguf or self.hf_dir)}

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "hf_dir": str(self.hf_dir), "gguf": str(self.gguf) if self.gguf else None}


def resolve_model_path(model_path: str | Path | None) -> Path:
    """The file or folder of a local model (default: the embedded SmolLM2)."""
    path = Path(model_path).expanduser() if model_path else embedded_model_path()
    if not path.exists():
        raise AntischemeError(f"model not found: {path} (give a GGUF file or an HF model folder)")
    return path


def base_checkpoint(model_path: str | Path | None = None) -> Checkpoint:
    """The starting checkpoint: an HF folder (a GGUF is dequantized once into the cache).

    Args:
        model_path: GGUF file or HF folder (default: the embedded model).
    """
    path = resolve_model_path(model_path)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise AntischemeError(f"{path} is not an HF model folder (no config.json)")
        return Checkpoint(name="base", hf_dir=path)
    digest = hashlib.sha256(f"{path.resolve()}|{path.stat().st_size}|{path.stat().st_mtime_ns}".encode()).hexdigest()
    out = CACHE / "hf" / f"{path.stem}-{digest[:12]}"
    if not (out / "config.json").is_file():
        from ..models._transformers import load_transformers_model

        model, tokenizer = load_transformers_model(path)
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer.remove_quantization_config(model)
        tmp = out.with_name(out.name + ".partial")
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        tmp.rename(out)
    return Checkpoint(name="base", hf_dir=out, gguf=path)


# HF llama parameter name (inside a layer) -> GGUF tensor name
_LAYER_TENSORS = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
}


def _gguf_name(hf_name: str) -> str | None:
    if hf_name == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf_name == "model.norm.weight":
        return "output_norm.weight"
    if hf_name == "lm_head.weight":
        return "output.weight"
    parts = hf_name.split(".")
    if parts[:2] != ["model", "layers"] or parts[-1] != "weight":
        return None
    module = ".".join(parts[3:-1])
    return f"blk.{parts[2]}.{_LAYER_TENSORS[module]}.weight"


def _unpermute(weights: Any, heads: int) -> Any:
    """llama.cpp stores q/k rows interleaved for its rotary embedding (as its converter does)."""
    return weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(
        weights.shape
    )


def export_gguf(hf_dir: Path, out: Path, *, template: Path) -> Path:
    """Write an HF llama checkpoint as a Q8_0 GGUF, metadata copied from ``template``.

    Args:
        hf_dir: Merged HF checkpoint (llama architecture).
        out: GGUF path to write.
        template: GGUF of the same architecture and tokenizer (the model the checkpoint came from).
    """
    import gguf
    import numpy as np
    from safetensors import safe_open

    config = json.loads((hf_dir / "config.json").read_text())
    if config.get("model_type") != "llama":
        raise AntischemeError(f"GGUF export supports llama models; {hf_dir} is {config.get('model_type')}")
    source = gguf.GGUFReader(str(template))
    writer = gguf.GGUFWriter(str(out), arch="llama")
    for name, field in source.fields.items():
        if name.startswith("GGUF.") or name in ("general.architecture", "general.file_type", "general.quantization_version"):
            continue
        kind = field.types[0]
        writer.add_key_value(name, field.contents(), kind, sub_type=field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    tied = config.get("tie_word_embeddings", False)
    with safe_open(str(hf_dir / "model.safetensors"), framework="pt") as tensors:
        for hf_name in tensors.keys():
            name = _gguf_name(hf_name)
            if name is None or (tied and name == "output.weight"):
                continue
            weights = tensors.get_tensor(hf_name).float().numpy()
            if name.endswith("attn_q.weight"):
                weights = _unpermute(weights, config["num_attention_heads"])
            elif name.endswith("attn_k.weight"):
                weights = _unpermute(weights, config["num_key_value_heads"])
            if weights.ndim == 2 and weights.shape[1] % 32 == 0:
                writer.add_tensor(name, gguf.quants.quantize(weights, gguf.GGMLQuantizationType.Q8_0),
                                  raw_dtype=gguf.GGMLQuantizationType.Q8_0)
            else:
                writer.add_tensor(name, weights.astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out
