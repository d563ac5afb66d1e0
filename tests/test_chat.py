"""Rendering Inspect conversations with the model's chat template (no model needed)."""

from __future__ import annotations

from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    ContentReasoning,
    ContentText,
)
from inspect_ai.tool import ToolCall, ToolCallError, ToolInfo, ToolParams

from antischeme.models import ReasoningTags
from antischeme.models._chat import render_prompt

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
TOOL = ToolInfo(name="calculator", description="Evaluate arithmetic.", parameters=ToolParams())


def _render(messages, **kwargs):  # type: ignore[no-untyped-def]
    options = {"tools": [], "reasoning_tags": ReasoningTags(), "scratchpad": False, **kwargs}
    return render_prompt(messages, template=CHATML, special_tokens={}, **options)


def test_plain_turn_ends_with_generation_prompt() -> None:
    prompt = _render([ChatMessageSystem(content="Be brief."), ChatMessageUser(content="Hi")])
    assert prompt.prefill == ""
    assert prompt.text == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_trailing_assistant_message_is_continued_not_closed() -> None:
    prompt = _render([ChatMessageUser(content="Capital of France?"), ChatMessageAssistant(content="It is")])
    assert prompt.prefill == "It is"
    assert prompt.text.endswith("<|im_start|>assistant\nIt is")  # no <|im_end|>: the turn stays open


def test_tools_go_in_the_system_message_and_results_come_back_as_user_turns() -> None:
    call = ToolCall(id="c1", function="calculator", arguments={"expression": "2+2"})
    messages = [
        ChatMessageSystem(content="Use tools."),
        ChatMessageUser(content="2+2?"),
        ChatMessageAssistant(content="", tool_calls=[call]),
        ChatMessageTool(content="4", tool_call_id="c1", function="calculator"),
        ChatMessageTool(
            content="", tool_call_id="c2", function="calculator", error=ToolCallError("parsing", "bad JSON")
        ),
    ]
    text = _render(messages, tools=[TOOL]).text
    system = text.split("<|im_end|>")[0]
    assert "Use tools." in system and '"name": "calculator"' in system and "<tool_call>" in system
    assert '<tool_call>{"name": "calculator", "arguments": {"expression": "2+2"}}</tool_call>' in text
    assert '<|im_start|>user\n<tool_response name="calculator">\n4\n</tool_response>' in text
    assert "Error: bad JSON" in text


def test_reasoning_is_rendered_closed_in_history_and_open_in_a_prefill() -> None:
    earlier = ChatMessageAssistant(content=[ContentReasoning(reasoning="think A"), ContentText(text="answer A")])
    prefill = ChatMessageAssistant(content=[ContentReasoning(reasoning="half a thought")])
    text = _render([ChatMessageUser(content="q1"), earlier, ChatMessageUser(content="q2"), prefill]).text
    assert "<think>think A</think>answer A" in text
    assert text.endswith("<think>half a thought")  # the model continues its chain of thought


def test_scratchpad_instruction_is_optional() -> None:
    messages = [ChatMessageUser(content="hi")]
    assert "<think>" not in _render(messages).text
    assert "inside <think> </think> tags" in _render(messages, scratchpad=True).text
