"""Inspect messages -> the model's own chat template -> one prompt string (with prefill)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    ContentReasoning,
    ContentText,
)
from inspect_ai.tool import ToolInfo

from ._protocol import (
    SCRATCHPAD_INSTRUCTION,
    ReasoningTags,
    render_tool_call,
    render_tool_response,
    tools_instruction,
)


class UnsupportedInput(ValueError):
    """Input the local engine cannot render (e.g. images)."""


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt.

    Args:
        text: The full prompt, ending where the model continues.
        prefill: Assistant text the prompt ends with (continued, not restarted), or "".
    """

    text: str
    prefill: str


@lru_cache(maxsize=16)
def _compile(template: str) -> jinja2.Template:
    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda value, indent=None: json.dumps(value, indent=indent, ensure_ascii=False)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template)


def render_prompt(
    messages: list[ChatMessage],
    *,
    template: str,
    special_tokens: dict[str, str],
    tools: list[ToolInfo],
    reasoning_tags: ReasoningTags,
    scratchpad: bool,
) -> Prompt:
    """Render Inspect messages with the model's chat template.

    Tools are described in the system message (text protocol); tool results become user turns.
    When the last message is the assistant's, the prompt opens an assistant turn and ends
    with that message's text, so generation continues it (prefill).

    Args:
        messages: Conversation so far.
        template: Jinja chat template of the model.
        special_tokens: bos_token / eos_token for the template.
        tools: Tools offered to the model.
        reasoning_tags: Reasoning delimiters (used to render earlier reasoning).
        scratchpad: Add the scratchpad instruction to the system message.
    """
    system_parts = [_text(m) for m in messages if isinstance(m, ChatMessageSystem)]
    if scratchpad:
        system_parts.append(SCRATCHPAD_INSTRUCTION.format(open=reasoning_tags.open, close=reasoning_tags.close))
    if tools:
        system_parts.append(tools_instruction(tools))
    turns: list[dict[str, str]] = []
    if system_parts:
        turns.append({"role": "system", "content": "\n\n".join(system_parts)})
    conversation = [m for m in messages if not isinstance(m, ChatMessageSystem)]
    prefill = ""
    if conversation and isinstance(conversation[-1], ChatMessageAssistant):
        prefill = _assistant_text(conversation[-1], reasoning_tags, open_ended=True)
        conversation = conversation[:-1]
    for message in conversation:
        if isinstance(message, ChatMessageUser):
            turns.append({"role": "user", "content": _text(message)})
        elif isinstance(message, ChatMessageAssistant):
            turns.append({"role": "assistant", "content": _assistant_text(message, reasoning_tags)})
        elif isinstance(message, ChatMessageTool):
            error = message.error.message if message.error else None
            turns.append(
                {
                    "role": "user",
                    "content": render_tool_response(function=message.function, content=_text(message), error=error),
                }
            )
    text = _compile(template).render(messages=turns, add_generation_prompt=True, **special_tokens)
    return Prompt(text=text + prefill, prefill=prefill)


def _text(message: ChatMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = []
    for content in message.content:
        if isinstance(content, ContentText):
            parts.append(content.text)
        elif isinstance(content, ContentReasoning):
            continue
        else:
            raise UnsupportedInput(
                f"the antischeme local engine reads text only; got {content.type} content in a {message.role} message"
            )
    return "\n".join(parts)


def _assistant_text(message: ChatMessageAssistant, tags: ReasoningTags, *, open_ended: bool = False) -> str:
    """The assistant turn as the model writes it.

    With ``open_ended`` (a prefill), reasoning followed by nothing is left open, so the model
    continues its chain of thought rather than starting its answer.
    """
    answer = _text(message)
    calls = "".join(render_tool_call(call) for call in message.tool_calls or [])
    reasoning = ""
    if not isinstance(message.content, str):
        blocks = [c.reasoning for c in message.content if isinstance(c, ContentReasoning)]
        if blocks:
            close = "" if open_ended and not answer and not calls else tags.close
            reasoning = f"{tags.open}{chr(10).join(blocks)}{close}"
    return reasoning + answer + calls
