"""Sentences and the text of a rollout that the CoT graders read."""

from __future__ import annotations

import json
import re
from typing import Any

from inspect_ai.log import EvalSample
from inspect_ai.model import ChatMessage, ChatMessageAssistant, ContentReasoning, ContentText

# a sentence ends at . ! ? or a newline; abbreviations are rare enough in CoTs to ignore
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]]*|\n|$)")


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the text's sentences (whitespace trimmed, empty ones dropped)."""
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def sentence_texts(text: str) -> list[str]:
    return [text[s:e] for s, e in sentences(text)]


def reasoning_and_text(message: ChatMessageAssistant) -> tuple[str, str]:
    """A turn's reasoning blocks and its visible text."""
    if isinstance(message.content, str):
        return "", message.content
    reasoning = "\n".join(c.reasoning for c in message.content if isinstance(c, ContentReasoning) and not c.redacted)
    text = "\n".join(c.text for c in message.content if isinstance(c, ContentText))
    return reasoning, text


def cot_of(messages: list[ChatMessage]) -> tuple[str, str]:
    """The text the CoT graders read, and its source.

    The reasoning blocks of every assistant turn when there are any ("reasoning"); otherwise the
    visible assistant text ("text"), since a model without a reasoning channel reasons in the open.
    """
    reasonings, texts = [], []
    for message in messages:
        if isinstance(message, ChatMessageAssistant):
            reasoning, text = reasoning_and_text(message)
            if reasoning.strip():
                reasonings.append(reasoning.strip())
            if text.strip():
                texts.append(text.strip())
    if reasonings:
        return "\n\n".join(reasonings), "reasoning"
    return "\n\n".join(texts), "text"


def transcript_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Messages as plain records for the transcript viewer."""
    records = []
    for message in messages:
        record: dict[str, Any] = {"role": message.role, "text": message.text, "reasoning": "", "tool_calls": [], "error": None}
        if isinstance(message, ChatMessageAssistant):
            record["reasoning"], record["text"] = reasoning_and_text(message)
            record["tool_calls"] = [
                {"function": call.function, "arguments": json.dumps(call.arguments, ensure_ascii=False)}
                for call in message.tool_calls or []
            ]
        error = getattr(message, "error", None)
        if error is not None:
            record["error"] = error.message
        records.append(record)
    return records


def sample_cot(sample: EvalSample) -> tuple[str, str]:
    """A logged rollout's CoT text and source."""
    return cot_of(sample.messages)
