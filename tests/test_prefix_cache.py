"""The llama.cpp engine's prefix cache, on the embedded model: what it reuses, and that reuse
changes nothing in what is generated."""

from __future__ import annotations

from concurrent.futures import wait

import pytest

from antischeme.models import embedded_model_path
from antischeme.models._llama import LlamaCppEngine, _common_prefix
from antischeme.models._sampling import SamplingParams

GREEDY = SamplingParams(max_tokens=12, temperature=0)
TURN_1 = (
    "<|im_start|>system\nYou are a careful assistant. Answer briefly.<|im_end|>\n"
    "<|im_start|>user\nName a planet.<|im_end|>\n<|im_start|>assistant\n"
)
TURN_2 = "<|im_end|>\n<|im_start|>user\nAnd a moon of it?<|im_end|>\n<|im_start|>assistant\n"


def test_common_prefix() -> None:
    assert _common_prefix([], [1]) == 0
    assert _common_prefix([1, 2, 3], [1, 2, 3]) == 3
    assert _common_prefix([1, 2, 3], [1, 2]) == 2
    assert _common_prefix([1, 2, 3, 4, 5], [1, 2, 9, 4, 5]) == 2
    assert _common_prefix([7] * 1000 + [1], [7] * 1000 + [2]) == 1000
    assert _common_prefix([1], [2]) == 0


@pytest.fixture(scope="module")
def engines() -> dict[str, LlamaCppEngine]:
    path = embedded_model_path()
    cached = LlamaCppEngine(model_path=path, max_batch=4, n_ctx=1024)
    plain = LlamaCppEngine(model_path=path, max_batch=4, n_ctx=1024, prefix_cache=False)
    yield {"cached": cached, "plain": plain}
    cached.close()
    plain.close()


def conversation(engine: LlamaCppEngine) -> tuple[list[int], list[int], list[str]]:
    first_prompt = engine.tokenize(TURN_1)
    first = engine.generate_sync(first_prompt, [GREEDY])[0]
    second_prompt = first_prompt + first.token_ids + engine.tokenize(TURN_2)
    second = engine.generate_sync(second_prompt, [GREEDY])[0]
    return first_prompt, first.token_ids, [first.text, second.text]


@pytest.mark.slow
def test_next_turn_reads_only_what_is_new_and_generates_the_same(engines: dict[str, LlamaCppEngine]) -> None:
    cached, plain = engines["cached"], engines["plain"]
    before = dict(cached.stats)
    first_prompt, generated, texts = conversation(cached)
    reused = cached.stats["prompt_tokens_reused"] - before["prompt_tokens_reused"]
    read = cached.stats["prompt_tokens_read"] - before["prompt_tokens_read"]
    new_tokens = len(cached.tokenize(TURN_2))
    # the second turn starts from the first turn's cache: its prompt and every generated token that
    # was fed back (the last sampled one never was, when the turn ended on max_tokens)
    fed_back = len(generated) - (1 if len(generated) == GREEDY.max_tokens else 0)
    assert reused == len(first_prompt) + fed_back
    assert read == len(first_prompt) + (len(generated) - fed_back) + new_tokens
    plain_before = dict(plain.stats)
    assert conversation(plain)[2] == texts
    assert plain.stats["prompt_tokens_reused"] == plain_before["prompt_tokens_reused"]


@pytest.mark.slow
def test_concurrent_identical_prompts_read_it_once(engines: dict[str, LlamaCppEngine]) -> None:
    cached, plain = engines["cached"], engines["plain"]
    prompt = cached.tokenize(TURN_1.replace("planet", "river"))
    before = dict(cached.stats)
    futures = [cached.submit(prompt, [GREEDY]) for _ in range(3)]
    wait(futures, timeout=300)
    texts = [f.result()[0].text for f in futures]
    read = cached.stats["prompt_tokens_read"] - before["prompt_tokens_read"]
    reused = cached.stats["prompt_tokens_reused"] - before["prompt_tokens_reused"]
    # every prompt token is read or reused; the second and third request read only the last one
    # (the first may also reuse the system prompt an earlier test left in the cache)
    assert read + reused == 3 * len(prompt)
    assert reused >= 2 * (len(prompt) - 1) and read <= len(prompt) + 2
    assert texts == [plain.generate_sync(prompt, [GREEDY])[0].text] * 3


@pytest.mark.slow
def test_a_different_prompt_reuses_only_the_shared_beginning(engines: dict[str, LlamaCppEngine]) -> None:
    cached = engines["cached"]
    shared = cached.tokenize(TURN_1.split("<|im_start|>user")[0])
    cached.generate_sync(cached.tokenize(TURN_1), [GREEDY])
    before = cached.stats["prompt_tokens_reused"]
    cached.generate_sync(cached.tokenize(TURN_1.replace("Name a planet.", "Name a colour.")), [GREEDY])
    assert cached.stats["prompt_tokens_reused"] - before >= len(shared)


@pytest.mark.slow
def test_without_the_cache_the_choices_of_one_request_still_share_their_prompt(
    engines: dict[str, LlamaCppEngine],
) -> None:
    plain = engines["plain"]
    prompt = plain.tokenize(TURN_1.replace("planet", "mountain"))
    before = dict(plain.stats)
    texts = {c.text for c in plain.generate_sync(prompt, [GREEDY] * 3)}
    assert plain.stats["prompt_tokens_read"] - before["prompt_tokens_read"] == len(prompt) + 2
    assert plain.stats["prompt_tokens_reused"] - before["prompt_tokens_reused"] == 2 * (len(prompt) - 1)
    assert len(texts) == 1
