"""The antischeme provider on the embedded model, for real, on both backends."""

from __future__ import annotations

import asyncio

import pytest
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageUser,
    ContentReasoning,
    GenerateConfig,
    Model,
    execute_tools,
    get_model,
)

from antischeme.tasks import calculator

pytestmark = pytest.mark.slow

QUESTION = ChatMessageUser(content="What is the capital of France?")
PREFIX = "The capital of France is"


@pytest.fixture(params=["llama", "transformers"], scope="module")
def model(request: pytest.FixtureRequest) -> Model:
    return get_model("antischeme/smollm2", backend=request.param)


def generate(model: Model, messages, **config):  # type: ignore[no-untyped-def]
    return asyncio.run(model.generate(messages, config=GenerateConfig(**config)))


def generate_with_tools(model: Model, messages, tools, **config):  # type: ignore[no-untyped-def]
    return asyncio.run(model.generate(messages, tools=tools, config=GenerateConfig(**config)))


def test_prefill_continues_the_assistant_text(model: Model) -> None:
    output = generate(model, [QUESTION, ChatMessageAssistant(content=PREFIX)], temperature=0, max_tokens=16)
    text = output.choices[0].message.text
    assert output.metadata["prefill"] == PREFIX
    assert text.startswith(PREFIX)
    continuation = text[len(PREFIX) :]
    assert output.metadata["continuations"] == [continuation]
    # a continuation of the sentence, not a new turn that starts over
    assert "Paris" in continuation
    assert not continuation.lstrip().startswith("The capital")
    assert "<|im_start|>" not in continuation


def test_without_prefill_the_model_starts_its_own_turn(model: Model) -> None:
    output = generate(model, [QUESTION], temperature=0, max_tokens=16)
    assert output.metadata.get("prefill") is None
    assert output.completion.strip()
    assert output.choices[0].stop_reason in ("stop", "max_tokens")


def test_num_choices_and_usage(model: Model) -> None:
    output = generate(model, [QUESTION], temperature=1.0, seed=3, num_choices=4, max_tokens=12)
    assert len(output.choices) == 4
    assert output.usage is not None and output.usage.input_tokens > 10
    assert 4 <= output.usage.output_tokens <= 4 * 12


def test_same_seed_same_output_greedy_and_sampled(model: Model) -> None:
    prompt = [ChatMessageUser(content="Write one sentence about the sea.")]
    for config in ({"temperature": 0.0}, {"temperature": 0.9, "seed": 11}):
        a = generate(model, prompt, max_tokens=24, **config)
        b = generate(model, prompt, max_tokens=24, **config)
        assert a.completion == b.completion
    many = generate(model, prompt, max_tokens=24, temperature=1.2, seed=1, num_choices=4)
    assert len({c.message.text for c in many.choices}) > 1  # choices use different seeds


def test_logprobs(model: Model) -> None:
    output = generate(model, [QUESTION], temperature=0, max_tokens=8, logprobs=True, top_logprobs=3)
    content = output.choices[0].logprobs.content
    assert len(content) == output.usage.output_tokens
    assert all(lp.logprob <= 0 for lp in content)
    assert all(len(lp.top_logprobs) == 3 for lp in content)
    # greedy: the chosen token is the most likely one
    assert all(lp.top_logprobs[0].logprob == pytest.approx(lp.logprob) for lp in content)
    assert "".join(lp.token for lp in content).strip() == output.completion.strip()


def test_stop_sequences_and_max_tokens(model: Model) -> None:
    output = generate(model, [QUESTION, ChatMessageAssistant(content=PREFIX)], temperature=0, stop_seqs=["Par"])
    assert output.choices[0].message.text == PREFIX + " "
    assert output.choices[0].stop_reason == "stop"
    long = generate(model, [ChatMessageUser(content="Tell me a long story.")], temperature=0, max_tokens=5)
    assert long.choices[0].stop_reason == "max_tokens"
    assert long.usage.output_tokens == 5


def test_concurrent_requests_are_batched(model: Model) -> None:
    engine = model.api.engine  # type: ignore[attr-defined]
    engine.stats["peak_batch"] = 0

    async def many() -> list[str]:
        prompts = [[ChatMessageUser(content=f"Count to {i}.")] for i in range(3, 11)]
        outputs = await asyncio.gather(
            *[model.generate(p, config=GenerateConfig(temperature=0, max_tokens=16)) for p in prompts]
        )
        return [o.completion for o in outputs]

    completions = asyncio.run(many())
    assert len(completions) == 8 and all(completions)
    assert engine.stats["peak_batch"] >= 4  # served together, not one at a time


def test_tool_call_protocol_through_generation(model: Model) -> None:
    call = '<tool_call>{"name": "calculator", "arguments": {"expression": "2+2"}}</tool_call>'
    output = generate_with_tools(
        model, [ChatMessageUser(content="2+2?"), ChatMessageAssistant(content=call)], [calculator()], max_tokens=8
    )
    message = output.choices[0].message
    assert message.tool_calls and message.tool_calls[0].function == "calculator"
    assert message.tool_calls[0].arguments == {"expression": "2+2"}
    assert "<tool_call>" not in message.text
    result = asyncio.run(execute_tools([message], [calculator()]))
    assert result.messages[0].text == "4" and result.messages[0].error is None


def test_malformed_tool_call_is_reported_to_the_model(model: Model) -> None:
    call = '<tool_call>{"name": "calculator", "arguments": {"expression": 2+2}}</tool_call>'
    output = generate_with_tools(
        model, [ChatMessageUser(content="2+2?"), ChatMessageAssistant(content=call)], [calculator()], max_tokens=8
    )
    message = output.choices[0].message
    assert message.tool_calls and message.tool_calls[0].parse_error
    result = asyncio.run(execute_tools([message], [calculator()]))
    error = result.messages[0].error
    assert error is not None and error.type == "parsing" and "not valid JSON" in error.message


def test_reasoning_is_returned_separately(model: Model) -> None:
    prefill = ChatMessageAssistant(content="<think>The user asks for a capital city. France's is Paris.</think>")
    output = generate(model, [QUESTION, prefill], temperature=0, max_tokens=16)
    content = output.choices[0].message.content
    reasoning = [c for c in content if isinstance(c, ContentReasoning)]
    assert len(reasoning) == 1
    assert reasoning[0].reasoning == "The user asks for a capital city. France's is Paris."
    assert "<think>" not in output.choices[0].message.text
    assert "</think>" not in output.choices[0].message.text


def test_choices_sharing_a_prompt_are_one_greedy_run(model: Model) -> None:
    # the choices of one request decode from one shared prompt, so greedy choices are identical. On
    # transformers they also equal the single-choice output. On llama.cpp the prompt may come from the
    # prefix cache, computed in other passes than a fresh read, and its kernels round differently per
    # pass (docs/models.md), so there the single run is not compared
    prompt = [ChatMessageUser(content="Name three colours.")]
    single = generate(model, prompt, temperature=0, max_tokens=20)
    multi = generate(model, prompt, temperature=0, max_tokens=20, num_choices=4)
    texts = [c.message.text for c in multi.choices]
    assert len(set(texts)) == 1 and texts[0]
    if model.api.engine.name != "llama.cpp":
        assert texts == [single.completion] * 4


def test_identical_concurrent_requests_both_complete(model: Model) -> None:
    # the same prompt twice at once (as with epochs): each request gets its own answer
    async def twice() -> list[str]:
        config = GenerateConfig(temperature=0, max_tokens=12)
        outputs = await asyncio.gather(*[model.generate([QUESTION], config=config) for _ in range(2)])
        return [o.completion for o in outputs]

    # both complete with their own answer; with llama.cpp's prefix cache the second copies the first's
    # prompt and reads its last token in a smaller pass, which rounds differently (docs/models.md), so
    # the two greedy answers need not be equal there
    first, second = asyncio.run(asyncio.wait_for(twice(), timeout=300))
    assert first and second
    if model.api.engine.name != "llama.cpp":
        assert first == second


def test_a_conversation_longer_than_the_context_ends_the_turn_cleanly() -> None:
    small = get_model("antischeme/smollm2", n_ctx=64, memoize=False)
    long_input = ChatMessageUser(content="word " * 200)
    output = generate(small, [long_input], max_tokens=8)
    assert output.choices[0].stop_reason == "model_length"
    assert output.completion == "" and output.metadata["prompt_tokens"] > 64
