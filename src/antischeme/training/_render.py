"""Rollouts as training data: chat JSONL (HF/TRL and OpenAI formats) and training sequences.

Training text is rendered exactly as the local provider renders a conversation at evaluation time
(the model's chat template, tools described in the system message, tool calls and reasoning in
the text protocol), so a model is trained on the prompts it will later be given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalSample
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    ContentReasoning,
)
from inspect_ai.tool import ToolDef, ToolInfo

from ..envs import Scenario, get_family
from ..models._chat import _assistant_text, _text, render_prompt
from ..models._protocol import ReasoningTags


@dataclass(frozen=True)
class ChatFormat:
    """How a model's conversations are written: its chat template and special tokens.

    Args:
        template: Jinja chat template.
        special_tokens: bos_token / eos_token.
        reasoning_tags: Reasoning delimiters (the provider's default unless overridden).
    """

    template: str
    special_tokens: dict[str, str]
    reasoning_tags: ReasoningTags = ReasoningTags()

    @property
    def end_of_turn(self) -> str:
        return self.special_tokens["eos_token"]


@cache
def chat_format(hf_dir: Path) -> ChatFormat:
    """The chat format of an HF checkpoint (from its tokenizer)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(hf_dir), local_files_only=True)
    if not tokenizer.chat_template:
        raise ValueError(f"{hf_dir}: the tokenizer has no chat template")
    return ChatFormat(
        template=tokenizer.chat_template,
        special_tokens={"bos_token": tokenizer.bos_token or "", "eos_token": tokenizer.eos_token or ""},
    )


def scenario_tools(scenario: Scenario) -> list[ToolInfo]:
    """The tools a scenario offers, as the model sees them."""
    infos = []
    for tool in get_family(scenario.family).tools(scenario):
        tdef = ToolDef(tool)
        infos.append(ToolInfo(name=tdef.name, description=tdef.description, parameters=tdef.parameters))
    return infos


def training_messages(sample: EvalSample) -> list[ChatMessage]:
    """A rollout's conversation with the scenario's own system message (any spec in context removed)."""
    scenario = Scenario.model_validate(sample.metadata["scenario"])
    rest = [m for m in sample.messages if not isinstance(m, ChatMessageSystem)]
    return [ChatMessageSystem(content=scenario.system), *rest]


def training_example(messages: list[ChatMessage], tools: list[ToolInfo], fmt: ChatFormat) -> dict[str, Any]:
    """A conversation as one training sequence: ``{"text", "train_spans"}``.

    Each assistant turn is rendered as the provider would prompt for it (the conversation so
    far, ending with the assistant header) plus what the model wrote and its end-of-turn token;
    ``train_spans`` are the character spans of those turns, the only tokens with a loss. One
    sequence per conversation, because on a CPU the shared prompt (system message, tool
    descriptions) dominates the cost and a pair per turn would repeat it for every turn.
    """
    text, spans = "", []
    for index, message in enumerate(messages):
        if not isinstance(message, ChatMessageAssistant):
            continue
        prompt = render_prompt(
            messages[:index],
            template=fmt.template,
            special_tokens=fmt.special_tokens,
            tools=tools,
            reasoning_tags=fmt.reasoning_tags,
            scratchpad=False,
        ).text
        if not prompt.startswith(text):
            raise ValueError("the chat template does not render conversations as a growing prefix")
        completion = _assistant_text(message, fmt.reasoning_tags) + fmt.end_of_turn
        spans.append([len(prompt), len(prompt) + len(completion)])
        text = prompt + completion
    return {"text": text, "train_spans": spans}


def _reasoning(message: ChatMessageAssistant) -> str:
    if isinstance(message.content, str):
        return ""
    return "\n".join(c.reasoning for c in message.content if isinstance(c, ContentReasoning))


def hf_record(messages: list[ChatMessage], tools: list[ToolInfo], metadata: dict[str, Any]) -> dict[str, Any]:
    """HF/TRL conversational format: ``messages`` (tool calls, tool role, ``reasoning_content``) and ``tools``."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, ChatMessageAssistant):
            turn: dict[str, Any] = {"role": "assistant", "content": _text(message)}
            if reasoning := _reasoning(message):
                turn["reasoning_content"] = reasoning
            if message.tool_calls:
                turn["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.function, "arguments": c.arguments}}
                    for c in message.tool_calls
                ]
            out.append(turn)
        elif isinstance(message, ChatMessageTool):
            out.append({"role": "tool", "tool_call_id": message.tool_call_id, "name": message.function,
                        "content": message.error.message if message.error else _text(message)})
        elif isinstance(message, (ChatMessageSystem, ChatMessageUser)):
            out.append({"role": message.role, "content": _text(message)})
    return {"messages": out, "tools": [_tool_schema(t) for t in tools], "metadata": metadata}


def openai_record(record: dict[str, Any], tags: ReasoningTags = ReasoningTags()) -> dict[str, Any]:
    """OpenAI chat fine-tuning format from an HF record.

    OpenAI's format has no reasoning field, so the reasoning is kept inside the assistant content
    between reasoning tags (as the local model writes it); tool-call arguments are JSON strings.
    """
    messages = []
    for turn in record["messages"]:
        turn = dict(turn)
        if turn["role"] == "assistant":
            reasoning = turn.pop("reasoning_content", "")
            if reasoning:
                turn["content"] = f"{tags.open}{reasoning}{tags.close}{turn['content']}"
            if "tool_calls" in turn:
                turn["tool_calls"] = [
                    {**c, "function": {**c["function"], "arguments": json.dumps(c["function"]["arguments"])}}
                    for c in turn["tool_calls"]
                ]
        elif turn["role"] == "tool":
            turn.pop("name", None)
        messages.append(turn)
    return {"messages": messages, "tools": record["tools"]}


def _tool_schema(tool: ToolInfo) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters.model_dump(exclude_none=True),
        },
    }
