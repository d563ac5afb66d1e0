"""The text tool-call protocol and reasoning extraction."""

from __future__ import annotations

import json

import pytest
from inspect_ai.tool import ToolCall, ToolInfo, ToolParams

from antischeme.models import ReasoningTags, parse_tool_calls, render_tool_call, split_reasoning, tools_instruction


def test_tool_call_round_trip() -> None:
    call = ToolCall(id="x", function="read_file", arguments={"path": "a/b.txt", "lines": [1, 2]})
    text = f"Let me look.\n{render_tool_call(call)}"
    prose, calls = parse_tool_calls(text)
    assert prose == "Let me look."
    assert len(calls) == 1
    assert calls[0].function == "read_file"
    assert calls[0].arguments == {"path": "a/b.txt", "lines": [1, 2]}
    assert calls[0].parse_error is None


def test_several_calls_fenced_and_unclosed() -> None:
    text = (
        '<tool_call>```json\n{"name": "a", "arguments": {}}\n```</tool_call> then '
        '<tool_call>{"name": "b", "arguments": "{\\"k\\": 1}"}</tool_call>'
        '<tool_call>{"name": "c", "arguments": {"z": true}}'  # cut off by max_tokens
    )
    prose, calls = parse_tool_calls(text)
    assert [c.function for c in calls] == ["a", "b", "c"]
    assert calls[1].arguments == {"k": 1}  # double-encoded arguments are decoded
    assert calls[2].arguments == {"z": True}
    assert all(c.parse_error is None for c in calls)
    assert prose == "then"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"name": "a", "arguments": {', "not valid JSON"),
        ('{"arguments": {}}', 'string "name"'),
        ('["a", {}]', 'string "name"'),
        ('{"name": "a", "arguments": [1, 2]}', '"arguments" must be a JSON object'),
    ],
)
def test_malformed_calls_become_parse_errors(body: str, reason: str) -> None:
    _, calls = parse_tool_calls(f"<tool_call>{body}</tool_call>")
    assert len(calls) == 1
    assert calls[0].parse_error is not None
    assert reason in calls[0].parse_error
    assert "<tool_call>" in calls[0].parse_error  # tells the model the right format


def test_text_without_calls_is_untouched() -> None:
    text = "I will not call any tool; the answer is 4."
    assert parse_tool_calls(text) == (text, [])


def test_tools_instruction_lists_schema() -> None:
    info = ToolInfo(
        name="send_email",
        description="Send an email.",
        parameters=ToolParams(properties={"to": {"type": "string", "description": "recipient"}}, required=["to"]),
    )
    text = tools_instruction([info])
    spec = json.loads(next(line for line in text.splitlines() if line.startswith("{")))
    assert spec["name"] == "send_email"
    assert spec["parameters"]["required"] == ["to"]
    assert "<tool_call>" in text


@pytest.mark.parametrize(
    ("text", "reasoning", "answer"),
    [
        ("<think>plan it</think>The answer is 4.", "plan it", "The answer is 4."),
        ("<think>still thinking when cut off", "still thinking when cut off", ""),
        ("No reasoning here.", None, "No reasoning here."),
        ("continued thought</think>Done.", "continued thought", "Done."),  # opened in a prefill
        ("<think>a</think>x<think>b</think>y", "a\n\nb", "xy"),
    ],
)
def test_split_reasoning(text: str, reasoning: str | None, answer: str) -> None:
    assert split_reasoning(text, ReasoningTags()) == (reasoning, answer)


def test_custom_reasoning_tags() -> None:
    tags = ReasoningTags.parse("<scratchpad>,</scratchpad>")
    assert split_reasoning("<scratchpad>hm</scratchpad>ok", tags) == ("hm", "ok")
    # the default tags mean nothing under custom ones
    assert split_reasoning("<think>hm</think>ok", tags) == (None, "<think>hm</think>ok")
    with pytest.raises(ValueError):
        ReasoningTags.parse("<only-one>")
