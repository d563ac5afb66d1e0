"""Causal chain-of-thought experiments: edit or cut a CoT, continue it (prefill), measure what moves.

Eval-awareness removal and injection with resampled episodes (`intervene`), sentence-level
resampling importance (`resampling_importance`), and CoT faithfulness (`faithfulness`: early answering, summary substitution, added mistakes,
paraphrase, filler) on a reasoning dataset generated here (`reasoning_problems`).
"""

from ._faithfulness import PROFILES, FaithfulnessProfile, faithfulness, parse_answer, plot_early_answering, truncate
from ._importance import resampling_importance
from ._intervene import Edit, intervene, plan_edits, summarize
from ._generation import PREFILL_PROVIDERS, Continuation, Generator, Request, check_prefill
from ._problems import Problem, reasoning_problems

__all__ = [
    "PREFILL_PROVIDERS",
    "PROFILES",
    "Continuation",
    "Edit",
    "FaithfulnessProfile",
    "Generator",
    "Problem",
    "Request",
    "check_prefill",
    "faithfulness",
    "intervene",
    "parse_answer",
    "plan_edits",
    "plot_early_answering",
    "reasoning_problems",
    "resampling_importance",
    "summarize",
    "truncate",
]
