"""Causal chain-of-thought experiments: edit or cut a CoT, continue it (prefill), measure what moves.

Eval-awareness removal and injection with resampled episodes (`intervene`); sentence-level
resampling importance on generated problems (`resampling_importance`) and on suite rollouts with
the detector's outcome (`suite_importance`); CoT faithfulness (`faithfulness`: early answering,
summary substitution, added mistakes, paraphrase, filler) on a reasoning dataset generated here
(`reasoning_problems`), and on suite rollouts, where the outcome is the decisive turn's next tool
call (`suite_early_answering`: early answering plus the same four controls).
"""

from ._faithfulness import (
    PROFILES,
    FaithfulnessProfile,
    decisive_turn,
    faithfulness,
    parse_answer,
    plot_early_answering,
    suite_early_answering,
    truncate,
)
from ._importance import resampling_importance, suite_importance
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
    "decisive_turn",
    "faithfulness",
    "intervene",
    "parse_answer",
    "plan_edits",
    "plot_early_answering",
    "reasoning_problems",
    "resampling_importance",
    "suite_early_answering",
    "suite_importance",
    "summarize",
    "truncate",
]
