"""Text protocols for models without native tool calling or reasoning channels.

Tool calls. The tool list is rendered into the system message (`tools_instruction`). The model
calls a tool by writing one JSON object per call inside tags::

    <tool_call>{"name": "read_file", "arguments": {"path": "notes.txt"}}</tool_call>

Results return in the next user turn as ``<tool_response name="read_file">…</tool_response>``.
A block that is not valid JSON, lacks a ``name`` or has non-object ``arguments`` becomes an
Inspect `ToolCall` with ``parse_error`` set, which Inspect reports back to the model as a tool
error: the model sees what was wrong and the rollout goes on.

Reasoning. Text inside ``<think>…</think>`` (tags configurable) is returned as
`ContentReasoning`, the rest as the answer. An opened, never-closed block (output cut by
``max_tokens``) is all reasoning. Tool calls written inside reasoning are not executed.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

from inspect_ai.tool import ToolCall, ToolInfo

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"

SCRATCHPAD_INSTRUCTION = (
    "Before you answer or act, think step by step inside {open} {close} tags. "
    "What you write there is your private scratchpad; after the closing tag, give your answer "
    "or tool calls."
)


@dataclass(frozen=True, kw_only=True)
class ReasoningTags:
    """Delimiters of the reasoning channel.

    Args:
        open: Opening tag.
        close: Closing tag.
    """

    open: str = "<think>"
    close: str = "</think>"

    @classmethod
    def parse(cls, value: str | tuple[str, str] | list[str] | None) -> "ReasoningTags":
        """Tags from a model arg: ``"<think>,</think>"`` or a pair."""
        if value is None:
            return cls()
        parts = value.split(",") if isinstance(value, str) else list(value)
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise ValueError(
                f"reasoning_tags must be two tags such as '<think>,</think>', got {value!r}"
            )
        return cls(open=parts[0].strip(), close=parts[1].strip())


def tools_instruction(tools: list[ToolInfo]) -> str:
    """The system-prompt text that tells the model its tools and the call format."""
    specs = "\n".join(
        json.dumps(
            {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters.model_dump(exclude_none=True),
            }
        )
        for tool in tools
    )
    return (
        "# Tools\n\n"
        "You can call the following tools. Each line is one tool with the JSON Schema of its "
        f"arguments:\n{specs}\n\n"
        "To call a tool, write a JSON object with the tool's name and arguments inside "
        f"{TOOL_CALL_OPEN}{TOOL_CALL_CLOSE} tags, for example:\n"
        f'{TOOL_CALL_OPEN}{{"name": "{tools[0].name}", "arguments": {{}}}}{TOOL_CALL_CLOSE}\n'
        "You may make several calls in one reply. Each result comes back inside "
        "<tool_response></tool_response> tags."
    )


def render_tool_call(call: ToolCall) -> str:
    """A tool call as the model would have written it."""
    body = json.dumps({"name": call.function, "arguments": call.arguments})
    return f"{TOOL_CALL_OPEN}{body}{TOOL_CALL_CLOSE}"


def render_tool_response(*, function: str | None, content: str, error: str | None) -> str:
    """A tool result as the model sees it."""
    name = f' name="{function}"' if function else ""
    body = f"Error: {error}" if error else content
    return f"<tool_response{name}>\n{body}\n</tool_response>"


_TOOL_CALL_RE = re.compile(
    re.escape(TOOL_CALL_OPEN) + r"(.*?)(?:" + re.escape(TOOL_CALL_CLOSE) + r"|\Z)", re.DOTALL
)
_FENCE_RE = re.compile(r"^```(?:json)?\s*|\s*```$")


def parse_tool_calls(text: str) -> tuple[str, list[ToolCall]]:
    """Split model text into its prose and its tool calls.

    Returns:
        The text with the call blocks removed, and one `ToolCall` per block (malformed blocks
        carry ``parse_error``).
    """
    calls = [_parse_call(match.group(1)) for match in _TOOL_CALL_RE.finditer(text)]
    return _TOOL_CALL_RE.sub("", text).strip(), calls


def _parse_call(body: str) -> ToolCall:
    call_id = f"call_{uuid.uuid4().hex[:12]}"
    source = _FENCE_RE.sub("", body.strip())
    try:
        obj = json.loads(source)
    except json.JSONDecodeError as ex:
        return _malformed(call_id, source, f"tool call is not valid JSON ({ex.msg} at char {ex.pos})")
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str) or not obj["name"]:
        return _malformed(call_id, source, 'tool call must be a JSON object with a string "name"')
    arguments = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(arguments, str):  # some models double-encode the arguments
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            pass
    if not isinstance(arguments, dict):
        return _malformed(call_id, source, '"arguments" must be a JSON object', obj["name"])
    return ToolCall(id=call_id, function=obj["name"], arguments=arguments)


def _malformed(call_id: str, source: str, why: str, function: str = "unparsed_tool_call") -> ToolCall:
    return ToolCall(
        id=call_id,
        function=function,
        arguments={},
        parse_error=f"{why}. Write calls as {TOOL_CALL_OPEN}"
        f'{{"name": "<tool>", "arguments": {{...}}}}{TOOL_CALL_CLOSE}. You wrote: {source[:300]}',
    )


def split_reasoning(text: str, tags: ReasoningTags) -> tuple[str | None, str]:
    """Separate reasoning blocks from the answer.

    Returns:
        The reasoning (None when there is none) and the remaining text.
    """
    pattern = re.compile(
        re.escape(tags.open) + r"(.*?)(?:" + re.escape(tags.close) + r"|\Z)", re.DOTALL
    )
    blocks = [m.group(1).strip() for m in pattern.finditer(text)]
    if not blocks:
        # a prefilled or template-opened block leaves only the closing tag in the output
        if tags.close in text:
            reasoning, _, answer = text.partition(tags.close)
            return reasoning.strip(), answer.strip()
        return None, text
    return "\n\n".join(blocks), pattern.sub("", text).strip()
