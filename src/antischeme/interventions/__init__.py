"""Causal chain-of-thought experiments: edit or cut a CoT, continue it (prefill), measure what moves.

So far: CoT faithfulness (`faithfulness`: early answering, summary substitution, added mistakes,
paraphrase, filler) on a reasoning dataset generated here (`reasoning_problems`).
"""

from ._faithfulness import PROFILES, FaithfulnessProfile, faithfulness, parse_answer, plot_early_answering, truncate
from ._generation import PREFILL_PROVIDERS, Continuation, Generator, Request, check_prefill
from ._problems import Problem, reasoning_problems

__all__ = [
    "PREFILL_PROVIDERS",
    "PROFILES",
    "Continuation",
    "FaithfulnessProfile",
    "Generator",
    "Problem",
    "Request",
    "check_prefill",
    "faithfulness",
    "parse_answer",
    "plot_early_answering",
    "reasoning_problems",
    "truncate",
]
