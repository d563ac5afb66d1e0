"""Local models for Inspect: the `antischeme/` provider, its engines and text protocols."""

from ._embedded import DEFAULT_MODEL, EMBEDDED_MODELS, embedded_model_path
from ._engine import Completion, Engine, EngineError
from ._protocol import (
    SCRATCHPAD_INSTRUCTION,
    ReasoningTags,
    parse_tool_calls,
    render_tool_call,
    split_reasoning,
    tools_instruction,
)
from ._provider import LocalModelAPI, load_engine
from ._sampling import SamplingParams

__all__ = [
    "DEFAULT_MODEL",
    "EMBEDDED_MODELS",
    "Completion",
    "Engine",
    "EngineError",
    "LocalModelAPI",
    "ReasoningTags",
    "SCRATCHPAD_INSTRUCTION",
    "SamplingParams",
    "embedded_model_path",
    "load_engine",
    "parse_tool_calls",
    "render_tool_call",
    "split_reasoning",
    "tools_instruction",
]
