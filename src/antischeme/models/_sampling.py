"""Token sampling shared by both backends, so a seed means the same thing on each."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, kw_only=True)
class SamplingParams:
    """Per-sequence decoding options.

    Args:
        max_tokens: Most tokens to generate.
        temperature: 0 means greedy (argmax).
        top_p: Nucleus sampling mass (1.0 disables it).
        top_k: Keep only the k most likely tokens (0 disables it).
        seed: Seed of this sequence's random generator (None: fresh entropy).
        stop: Strings that end generation (they are not returned).
        logprobs: Return the chosen token's log probability.
        top_logprobs: Also return this many alternatives per position.
    """

    max_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0


@dataclass
class TokenLogprob:
    """Log probability of one generated token (and optionally its alternatives)."""

    token_id: int
    logprob: float
    top: list[tuple[int, float]] = field(default_factory=list)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


class Sampler:
    """Chooses the next token of one sequence from its logits.

    Log probabilities are those of the model's own distribution (before temperature and
    truncation), as OpenAI-compatible servers report them.
    """

    def __init__(self, params: SamplingParams) -> None:
        self.params = params
        self._rng = np.random.default_rng(params.seed)

    def __call__(self, logits: np.ndarray) -> tuple[int, TokenLogprob | None]:
        logits = np.asarray(logits, dtype=np.float64)
        token = self._choose(logits)
        if not (self.params.logprobs or self.params.top_logprobs):
            return token, None
        logp = log_softmax(logits)
        top: list[tuple[int, float]] = []
        if self.params.top_logprobs:
            k = min(self.params.top_logprobs, logp.size)
            idx = np.argpartition(-logp, k - 1)[:k]
            idx = idx[np.argsort(-logp[idx])]
            top = [(int(i), float(logp[i])) for i in idx]
        return token, TokenLogprob(token_id=token, logprob=float(logp[token]), top=top)

    def _choose(self, logits: np.ndarray) -> int:
        p = self.params
        if p.temperature <= 0:
            return int(np.argmax(logits))
        scaled = logits / p.temperature
        if p.top_k and p.top_k < scaled.size:
            candidates = np.argpartition(-scaled, p.top_k - 1)[: p.top_k]
        elif p.top_p < 1.0 and scaled.size > _NUCLEUS_POOL:
            # Sorting the whole vocabulary every token is slow; the nucleus almost always lies
            # in the few hundred most likely tokens, and we fall back to all when it does not.
            candidates = np.argpartition(-scaled, _NUCLEUS_POOL - 1)[:_NUCLEUS_POOL]
        else:
            candidates = None
        probs = np.exp(scaled - scaled.max())
        total = probs.sum()
        if candidates is None and p.top_p >= 1.0:
            return int(np.searchsorted(np.cumsum(probs), self._rng.random() * total))
        if candidates is None:
            candidates = np.arange(scaled.size)
        order = candidates[np.argsort(-scaled[candidates])]
        kept = probs[order]
        if p.top_p < 1.0:
            cumulative = np.cumsum(kept) / total
            if p.top_k == 0 and cumulative[-1] < p.top_p and order.size < scaled.size:
                order = np.argsort(-scaled)
                kept = probs[order]
                cumulative = np.cumsum(kept) / total
            # the smallest prefix whose mass reaches top_p (always at least one token)
            keep = int(min(np.searchsorted(cumulative, p.top_p) + 1, order.size))
            order, kept = order[:keep], kept[:keep]
        cumulative = np.cumsum(kept)
        pick = int(np.searchsorted(cumulative, self._rng.random() * cumulative[-1]))
        return int(order[min(pick, order.size - 1)])


_NUCLEUS_POOL = 512
