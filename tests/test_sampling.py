"""The shared sampler: greedy, seeds, truncation and log probabilities."""

from __future__ import annotations

import numpy as np

from antischeme.models import SamplingParams
from antischeme.models._sampling import Sampler, log_softmax

LOGITS = np.log(np.array([0.5, 0.3, 0.15, 0.05]))


def _draws(params: SamplingParams, n: int = 4000) -> np.ndarray:
    sampler = Sampler(params)
    return np.array([sampler(LOGITS)[0] for _ in range(n)])


def test_greedy_is_argmax() -> None:
    assert set(_draws(SamplingParams(temperature=0), 50)) == {0}


def test_same_seed_same_draws_other_seed_differs() -> None:
    a = _draws(SamplingParams(temperature=1.0, seed=7), 200)
    b = _draws(SamplingParams(temperature=1.0, seed=7), 200)
    c = _draws(SamplingParams(temperature=1.0, seed=8), 200)
    assert (a == b).all()
    assert (a != c).any()


def test_frequencies_follow_the_distribution() -> None:
    counts = np.bincount(_draws(SamplingParams(temperature=1.0, seed=0)), minlength=4) / 4000
    assert np.allclose(counts, [0.5, 0.3, 0.15, 0.05], atol=0.03)


def test_top_p_and_top_k_truncate() -> None:
    # nucleus 0.7 keeps tokens 0 and 1 (0.5 + 0.3 >= 0.7), never 2 or 3
    kept = set(_draws(SamplingParams(temperature=1.0, top_p=0.7, seed=1), 2000))
    assert kept == {0, 1}
    assert set(_draws(SamplingParams(temperature=1.0, top_k=1, seed=1), 200)) == {0}


def test_low_temperature_sharpens() -> None:
    counts = np.bincount(_draws(SamplingParams(temperature=0.2, seed=3)), minlength=4) / 4000
    assert counts[0] > 0.9


def test_logprobs_are_the_model_distribution() -> None:
    sampler = Sampler(SamplingParams(temperature=0.5, seed=0, logprobs=True, top_logprobs=2))
    token, logprob = sampler(LOGITS)
    assert logprob is not None
    assert np.isclose(logprob.logprob, log_softmax(LOGITS)[token])
    assert [t for t, _ in logprob.top] == [0, 1]
    assert np.isclose(logprob.top[0][1], np.log(0.5))


def test_large_vocabulary_nucleus_falls_back_to_full_sort() -> None:
    # a flat distribution: the nucleus is far larger than the 512-token candidate pool
    logits = np.zeros(5000)
    draws = _draws_from(logits, SamplingParams(temperature=1.0, top_p=0.9, seed=2), 3000)
    assert len(set(draws)) > 1000


def _draws_from(logits: np.ndarray, params: SamplingParams, n: int) -> list[int]:
    sampler = Sampler(params)
    return [sampler(logits)[0] for _ in range(n)]
